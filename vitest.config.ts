import { defineConfig } from 'vitest/config';

/**
 * Suites whose assertions are about time (a release within a second of its unlock, a hub taken
 * over within a second of its death): they run after the others, one file at a time, so that a
 * machine busy with other suites does not make them late.
 */
const TIMED = [
	'tests/integration/timelock*.test.ts',
	'tests/integration/cluster.test.ts',
	'tests/e2e/timelock.test.ts',
];

const integration = {
	globalSetup: ['tests/setup/database.ts'],
	testTimeout: 60_000,
	hookTimeout: 120_000,
};
const e2e = {
	globalSetup: ['tests/setup/database.ts'],
	testTimeout: 120_000,
	hookTimeout: 120_000,
};

// Tests run on Node without the SvelteKit plugin: the code they cover is runtime-neutral
// (protocol, crypto), the hub, or a browser driven through playwright-core.
//
// Two files at a time, whatever the suite: most of a file's time is spent waiting (a hub's
// start, a browser, a reconnect's backoff), and each file has its own hub and database name, so
// two share the machine's two cores with no more than a third added to each; the whole run takes
// about two thirds of the time it took one file at a time. The timed suites follow, alone.
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
					maxWorkers: 2,
				},
			},
			{
				test: {
					name: 'integration',
					include: ['tests/integration/**/*.test.ts'],
					exclude: TIMED,
					maxWorkers: 2,
					...integration,
				},
			},
			{
				test: {
					name: 'e2e',
					include: ['tests/e2e/**/*.test.ts'],
					exclude: TIMED,
					maxWorkers: 2,
					...e2e,
				},
			},
			{
				test: {
					name: 'integration-timed',
					include: TIMED.filter((glob) => glob.startsWith('tests/integration/')),
					maxWorkers: 1,
					sequence: { groupOrder: 1 },
					...integration,
				},
			},
			{
				test: {
					name: 'e2e-timed',
					include: TIMED.filter((glob) => glob.startsWith('tests/e2e/')),
					maxWorkers: 1,
					sequence: { groupOrder: 1 },
					...e2e,
				},
			},
		],
	},
});
