import { defineConfig } from 'vitest/config';

// Tests run on Node without the SvelteKit plugin: the code they cover is runtime-neutral
// (protocol, crypto), the hub, or a browser driven through playwright-core.
export default defineConfig({
	test: {
		// The JSON report feeds the plain closing line that .ci/run prints (scripts/test-summary.mjs).
		reporters: ['default', 'json'],
		outputFile: { json: 'test-results/vitest.json' },
		projects: [
			{
				test: {
					name: 'unit',
					include: ['src/**/*.spec.ts', 'server/**/*.spec.ts', 'cli/**/*.spec.ts', 'scripts/**/*.spec.ts'],
					environment: 'node',
				},
			},
			{
				test: {
					name: 'integration',
					include: ['tests/integration/**/*.test.ts'],
					globalSetup: ['tests/setup/database.ts'],
					fileParallelism: false,
					testTimeout: 60_000,
					hookTimeout: 120_000,
				},
			},
			{
				test: {
					name: 'e2e',
					include: ['tests/e2e/**/*.test.ts'],
					globalSetup: ['tests/setup/database.ts'],
					fileParallelism: false,
					testTimeout: 120_000,
					hookTimeout: 120_000,
				},
			},
		],
	},
});
