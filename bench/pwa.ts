/**
 * `npm run bench:pwa`: the PWA as a person uses it, in Debian's Chromium (playwright-core) against
 * a hub this bench starts (server/main.ts in its own process, over its own database), each figure
 * beside a baseline measured in the same run. The bench reads only the app's DOM and IndexedDB,
 * so it measures whatever the client does.
 *
 *   1. burst  — a Node sender sends N messages into a conversation open on screen: last ack → last
 *               message shown, the longest task in the page, all stored, all receipts back.
 *               Baseline: a bare Node SDK receiver.
 *   2. sync   — N messages wait on the hub; the browser signs in from a fresh context and syncs.
 *               Baseline: a Node SDK device pulling the same N (messenger.syncAll).
 *   3. open   — the latest 50 of a conversation with N stored (seeded in the app's row format).
 *               Baseline: a raw IndexedDB cursor over [peer+order].
 *   4. idle   — a signed-in tab on ~200 messages with running countdowns, idle: CPU and memory.
 *               Baseline: a tab idle on the sign-in page.
 *   5. Lighthouse — bench/lib/lighthouse.ts (being written separately).
 *
 *   npm run bench:pwa -- [--only burst|sync|open|idle] [--burst 500] [--sync 1000,10000]
 *                        [--stored 1000,10000,100000] [--idle-seconds 60] [--idle-messages 200] [--idle-lock-minutes 1440]
 *                        [--timeout 300] [--mongodb-uri mongodb://…]
 *
 * Needs `npm run build` first (the hub serves build/). Each wait is capped by --timeout seconds and
 * reported as "timed out after X s" rather than hanging.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { ready } from '../src/lib/crypto';
import { launchChromium } from '../tests/e2e/support';
import { startBenchHubProcess, type BenchHubProcess } from './lib/harness';
import { integerOption } from './lib/options';
import { table } from './lib/stats';
import { burstRows, runBurst } from './pwa/burst';
import type { PwaEnv, Row } from './pwa/common';
import { idleRows, runIdle } from './pwa/idle';
import { openGrowth, openRows, runOpen } from './pwa/open';
import { runSync, syncRows } from './pwa/sync';

const SECTIONS = ['burst', 'sync', 'open', 'idle'] as const;
type Section = (typeof SECTIONS)[number];

interface Options {
	only: Section | null;
	burst: number;
	sync: number[];
	stored: number[];
	idleSeconds: number;
	idleMessages: number;
	/** How far ahead the idle tab's time-locks unlock (under 2: their countdowns show seconds). */
	idleLockMinutes: number;
	timeoutMs: number;
	mongodbUri: string | undefined;
}

/** The machine's 1, 5 and 15-minute load: the figures mean less when another job shares the cores. */
function loadAverage(): string {
	return loadavg()
		.map((l) => l.toFixed(2))
		.join(' ');
}

function integerList(name: string, text: string, min: number, max: number): number[] {
	return text.split(',').map((part) => integerOption(name, part.trim(), min, max));
}

function readOptions(argv: string[]): Options {
	const { values } = parseArgs({
		args: argv,
		options: {
			only: { type: 'string' },
			burst: { type: 'string', default: '500' },
			sync: { type: 'string', default: '1000,10000' },
			stored: { type: 'string', default: '1000,10000,100000' },
			'idle-seconds': { type: 'string', default: '60' },
			'idle-messages': { type: 'string', default: '200' },
			'idle-lock-minutes': { type: 'string', default: '1440' },
			timeout: { type: 'string', default: '300' },
			'mongodb-uri': { type: 'string' },
		},
		strict: true,
	});
	const only = values.only ?? null;
	if (only !== null && !SECTIONS.includes(only as Section)) {
		throw new Error(`--only must be one of ${SECTIONS.join(', ')}`);
	}
	return {
		only: only as Section | null,
		burst: integerOption('burst', values.burst, 2, 100_000),
		sync: integerList('sync', values.sync, 1, 1_000_000),
		stored: integerList('stored', values.stored, 1, 10_000_000),
		idleSeconds: integerOption('idle-seconds', values['idle-seconds'], 1, 3600),
		idleMessages: integerOption('idle-messages', values['idle-messages'], 1, 100_000),
		idleLockMinutes: integerOption('idle-lock-minutes', values['idle-lock-minutes'], 1, 5_000_000),
		timeoutMs: integerOption('timeout', values.timeout, 5, 7200) * 1000,
		mongodbUri: values['mongodb-uri'],
	};
}

function sectionTable(title: string, rows: Row[], notes: string[]): string {
	const met = (m: boolean | null) => (m === null ? '' : m ? 'met' : 'NOT met');
	return [
		title,
		table([
			['', 'measured', 'baseline', 'goal', ''],
			...rows.map((r) => [r.figure, r.measured, r.baseline, r.goal, met(r.met)]),
		]),
		...notes.map((n) => `note: ${n}`),
		'',
	].join('\n');
}

/** Runs a section; a failure is reported in its place and the next section still runs. */
async function section(title: string, run: () => Promise<string>): Promise<boolean> {
	try {
		process.stdout.write(`${await run()}\n`);
		return true;
	} catch (error) {
		process.stdout.write(`${title}\nfailed: ${(error as Error).stack ?? String(error)}\n\n`);
		return false;
	}
}

async function main(): Promise<number> {
	const options = readOptions(process.argv.slice(2));
	const wanted = (s: Section) => options.only === null || options.only === s;
	await ready();
	let hub: BenchHubProcess | null = null;
	let browser: Browser | null = null;
	try {
		process.stderr.write('pwa bench: starting the database, the hub and Chromium…\n');
		hub = await startBenchHubProcess('pwa', options.mongodbUri);
		browser = await launchChromium();
		const env: PwaEnv = { url: hub.url, browser, timeoutMs: options.timeoutMs };
		process.stdout.write(
			`PWA bench: Chromium ${browser.version()} against the hub at ${hub.url} (database: ${hub.dbKind}); ` +
				`waits capped at ${options.timeoutMs / 1000} s; load average ${loadAverage()}.\n\n`,
		);
		const outcomes: boolean[] = [];

		if (wanted('burst')) {
			const title = `1. Burst: ${options.burst} messages into a conversation open on screen (baseline: a Node SDK receiver)`;
			outcomes.push(
				await section(title, async () => {
					const r = await runBurst(env, options.burst);
					return sectionTable(title, burstRows(r), r.notes);
				}),
			);
		}
		if (wanted('sync')) {
			const title = `2. First sync after signing in (baseline: a Node SDK device's syncAll of the same messages)`;
			outcomes.push(
				await section(title, async () => {
					const rows: Row[] = [];
					const notes: string[] = [];
					for (const n of options.sync) {
						const r = await runSync(env, n);
						rows.push(...syncRows(r));
						notes.push(...r.notes);
					}
					return sectionTable(title, rows, notes);
				}),
			);
		}
		if (wanted('open')) {
			const title = `3. Open the latest 50 of a conversation (baseline: a raw IndexedDB cursor, 50 rows)`;
			outcomes.push(
				await section(title, async () => {
					const r = await runOpen(env, options.stored);
					return `${sectionTable(title, openRows(r), r.notes)}How it grows with the stored history:\n${openGrowth(r)}\n`;
				}),
			);
		}
		if (wanted('idle')) {
			const title = `4. Idle for ${options.idleSeconds} s on ${options.idleMessages} messages with countdowns to ${options.idleLockMinutes} min ahead (baseline: a tab on the sign-in page)`;
			outcomes.push(
				await section(title, async () => {
					const r = await runIdle(env, options.idleMessages, options.idleSeconds, options.idleLockMinutes);
					const notes = [`${r.countdowns} countdowns on screen`, ...r.notes];
					return sectionTable(title, idleRows(r), notes);
				}),
			);
		}
		if (options.only === null) {
			// Section 5: the Lighthouse audit (bench/lib/lighthouse.ts, written separately) prints its table here.
			process.stdout.write('5. Lighthouse\npending: bench/lib/lighthouse.ts is not part of this bench yet\n');
		}
		process.stdout.write(`\nload average at the end: ${loadAverage()} (${cpus().length} cores)\n`);
		return outcomes.every(Boolean) ? 0 : 1;
	} finally {
		await browser?.close();
		await hub?.close();
	}
}

process.exitCode = await main();
