import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

const databaseDrivers = ['mongoose', 'mongodb'].map((name) => ({
	name,
	message: 'Only server/store/ talks to the database; go through the Store (tests: tests/helpers/db.ts).',
}));

export default ts.config(
	{
		ignores: [
			'build/',
			'build-probe/',
			'dist/',
			'.svelte-kit/',
			'node_modules/',
			'.data/',
			'.tools/',
			'static/',
		],
	},
	js.configs.recommended,
	...ts.configs.recommended,
	...svelte.configs.recommended,
	prettier,
	...svelte.configs.prettier,
	{
		languageOptions: { globals: { ...globals.browser, ...globals.node } },
		rules: {
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
		},
	},
	{
		files: ['**/*.ts', '**/*.svelte.ts'],
		ignores: ['*.config.ts', 'eslint.config.js'],
		languageOptions: {
			parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
		},
		rules: {
			// Async handlers are everywhere in a socket hub: an unawaited promise loses errors.
			'@typescript-eslint/no-floating-promises': 'error',
			'@typescript-eslint/no-misused-promises': 'error',
		},
	},
	{
		files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
		languageOptions: {
			parserOptions: {
				projectService: true,
				extraFileExtensions: ['.svelte'],
				parser: ts.parser,
			},
		},
	},
	{
		// The store is the hub's only door to the database (tests reach it through one helper).
		files: ['**/*.ts', '**/*.svelte', '**/*.js'],
		ignores: ['server/store/**', 'tests/helpers/db.ts'],
		rules: { 'no-restricted-imports': ['error', { paths: databaseDrivers }] },
	},
	{
		// The contract, the crypto and the SDK run unchanged in the browser, the hub, the CLI and tests.
		files: ['src/lib/protocol/**', 'src/lib/crypto/**', 'src/lib/sdk/**'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					paths: databaseDrivers,
					patterns: [
						{ group: ['node:*'], message: 'protocol, crypto and sdk must not depend on Node.' },
						{
							group: ['$app/*', '$lib/*', 'svelte', 'svelte/*'],
							message: 'protocol, crypto and sdk must not depend on SvelteKit.',
						},
					],
				},
			],
			'no-restricted-globals': [
				'error',
				'window',
				'document',
				'navigator',
				'location',
				'localStorage',
				'sessionStorage',
				'indexedDB',
				'process',
				'Buffer',
				'global',
				'require',
				'__dirname',
				'__filename',
			],
		},
	},
);
