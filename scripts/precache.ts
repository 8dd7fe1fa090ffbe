import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Manifest, Plugin } from 'vite';

/**
 * What the PWA loads only while it is online, so the service worker need not precache it: the
 * password checker's dictionaries (1.6 MB) serve creating an account, which needs the hub anyway;
 * the QR decoder (ZXing, 1 MB of WebAssembly) serves scanning a safety code where the browser has
 * no BarcodeDetector, and offline the digits can be pasted or typed instead.
 * Once fetched, the service worker keeps them like any other built file.
 */
const ONLINE_ONLY = [/^node_modules\/@zxcvbn-ts\//, /^node_modules\/zxing-wasm\//];
/**
 * What the page never loads, though its build holds it: libsodium's full build, which the SDK
 * imports for an in-process Argon2id (the CLI's way). The page always derives in the KDF worker,
 * whose own bundle (precached) carries that build.
 */
const NEVER_IN_PAGE = [/^node_modules\/libsodium-wrappers-sumo\//, /^node_modules\/libsodium-sumo\//];

/** The module the service worker imports for the list (src/service-worker/index.ts). */
const ONLINE_ONLY_MODULE = 'virtual:hourglass/online-only';
const RESOLVED = `\0${ONLINE_ONLY_MODULE}`;
/** Where SvelteKit's client build leaves its Vite manifest, before the service worker is built. */
const CLIENT_MANIFEST = '.svelte-kit/output/client/.vite/manifest.json';

/**
 * The built files (paths as in `$app/manifest`'s `immutable`) that only online-only modules load:
 * those modules' own chunks and the chunks they import that nothing else imports.
 */
export function onlineOnlyFiles(
	manifest: Manifest,
	onlineOnly: RegExp[] = [...ONLINE_ONLY, ...NEVER_IN_PAGE],
): string[] {
	const isOnlineOnly = (key: string) => onlineOnly.some((pattern) => pattern.test(key));
	const closure = (roots: string[]) => {
		const seen = new Set<string>();
		const walk = (key: string) => {
			if (seen.has(key) || !manifest[key]) return;
			seen.add(key);
			for (const imported of manifest[key].imports ?? []) walk(imported);
		};
		roots.forEach(walk);
		return seen;
	};
	const filesOf = (keys: Iterable<string>) =>
		new Set(
			[...keys].flatMap((key) => [
				manifest[key].file,
				...(manifest[key].css ?? []),
				...(manifest[key].assets ?? []),
			]),
		);
	const entries = Object.keys(manifest).filter(
		(key) => manifest[key].isEntry || manifest[key].isDynamicEntry,
	);
	const needed = filesOf(closure(entries.filter((key) => !isOnlineOnly(key))));
	return [...filesOf(closure(entries.filter(isOnlineOnly)))].filter((file) => !needed.has(file)).sort();
}

/**
 * Gives the service worker's build `virtual:hourglass/online-only`: the list above, read from the
 * client build that SvelteKit finishes before it builds the service worker (empty under vite dev).
 */
export function onlineOnlyPlugin(): Plugin {
	let root = process.cwd();
	let building = false;
	return {
		name: 'hourglass-online-only',
		configResolved(config) {
			root = config.root;
			building = config.command === 'build';
		},
		resolveId(id) {
			return id === ONLINE_ONLY_MODULE ? RESOLVED : null;
		},
		load(id) {
			if (id !== RESOLVED) return null;
			const path = resolve(root, CLIENT_MANIFEST);
			if (building && !existsSync(path)) {
				this.error(`${ONLINE_ONLY_MODULE}: no client build at ${path} yet`);
			}
			const files = building ? onlineOnlyFiles(JSON.parse(readFileSync(path, 'utf8')) as Manifest) : [];
			return `export default ${JSON.stringify(files)};`;
		},
	};
}
