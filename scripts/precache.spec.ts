import type { Manifest } from 'vite';
import { describe, expect, it } from 'vitest';
import { onlineOnlyFiles } from './precache';

// The shape of SvelteKit's client manifest: the app's entries, libsodium and the checker loaded lazily.
const manifest: Manifest = {
	'app.js': { file: '_app/immutable/entry/app.js', isEntry: true, imports: ['_shared.js'] },
	'_shared.js': { file: '_app/immutable/chunks/shared.js' },
	'_helper.js': { file: '_app/immutable/chunks/helper.js' },
	'node_modules/libsodium-wrappers/dist/modules-esm/libsodium-wrappers.mjs': {
		file: '_app/immutable/chunks/sodium.js',
		isDynamicEntry: true,
	},
	'node_modules/libsodium-wrappers-sumo/dist/modules-sumo-esm/libsodium-wrappers.mjs': {
		file: '_app/immutable/chunks/sodium-sumo.js',
		isDynamicEntry: true,
	},
	'node_modules/@zxcvbn-ts/core/dist/index.mjs': {
		file: '_app/immutable/chunks/core.js',
		isDynamicEntry: true,
		imports: ['_helper.js', '_shared.js'],
		css: ['_app/immutable/assets/checker.css', '_app/immutable/assets/shared.css'],
	},
	'node_modules/@zxcvbn-ts/language-en/dist/index.mjs': {
		file: '_app/immutable/chunks/en.js',
		isDynamicEntry: true,
		imports: ['_helper.js'],
	},
	'src/routes/login/+page.svelte': {
		file: '_app/immutable/nodes/8.js',
		isEntry: true,
		css: ['_app/immutable/assets/shared.css'],
	},
};

describe('online-only files', () => {
	it('are the checker’s chunks and what only they import; what the app also uses stays precached', () => {
		expect(onlineOnlyFiles(manifest)).toEqual([
			'_app/immutable/assets/checker.css',
			'_app/immutable/chunks/core.js',
			'_app/immutable/chunks/en.js',
			'_app/immutable/chunks/helper.js',
			// libsodium's full build: only the SDK's in-process Argon2id imports it, never the page.
			'_app/immutable/chunks/sodium-sumo.js',
		]);
	});

	it('leave the page’s libsodium and everything else to the precache', () => {
		const files = onlineOnlyFiles(manifest);
		expect(files).not.toContain('_app/immutable/chunks/sodium.js');
		expect(files).not.toContain('_app/immutable/chunks/shared.js');
		expect(files).not.toContain('_app/immutable/assets/shared.css');
		expect(onlineOnlyFiles(manifest, [])).toEqual([]);
	});
});
