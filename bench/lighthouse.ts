/**
 * `npm run bench:lighthouse`: Lighthouse's performance figures (mobile, simulated throttling) for
 * the sign-in page and for a conversation view, beside a baseline measured in the same run. Needs
 * `npm run build` first; starts its own database and hub processes (server/main.ts, as in
 * production) and Debian's Chromium, all on 127.0.0.1.
 *
 *   npm run bench:lighthouse -- [--runs 3] [--baseline DIR] [--report-dir DIR] [--mongodb-uri mongodb://…]
 *
 * `build/` is served as in production (STATIC_COMPRESSION on). The baseline is the same build sent
 * uncompressed (STATIC_COMPRESSION=false) or, with `--baseline DIR`, another build sent
 * uncompressed, such as one of the commit before a change (`git worktree add /tmp/before <commit>`,
 * then `npm ci && npm run build` there, and `--baseline /tmp/before/build`). Each figure is the
 * median of `--runs` Lighthouse runs. The sign-in page and the conversation view are first loads
 * (no service worker, nothing in the caches); the conversation's tab has signed up and exchanged a
 * few messages first, so it is signed in and unlocked (its cookie, sessionStorage and IndexedDB
 * are kept, as when a person reloads it). The conversation is then measured once more as a reload
 * with the service worker installed and its caches kept: the way an installed app reopens.
 * `--report-dir` keeps each run's whole Lighthouse report there (JSON, one file per run).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startBenchHubProcess } from './lib/harness';
import { DevToolsChromium, lighthouse, type LighthouseScores } from './lib/lighthouse';
import { integerOption } from './lib/options';
import { fixed, percentile, table } from './lib/stats';
import { newUser, uniqueName } from '../tests/helpers/users';
import {
	PHONE,
	messageLog,
	openPerson,
	register,
	send,
	serviceWorkerReady,
	startConversation,
} from '../tests/e2e/support';

const BUILD = 'build';
const GOALS = { performance: 90, lcpMs: 2500 };
const MESSAGES = 4;

interface Options {
	runs: number;
	baseline: string | null;
	reportDir: string | null;
	mongodbUri: string | undefined;
}

function readOptions(argv: string[]): Options {
	const { values } = parseArgs({
		args: argv,
		options: {
			runs: { type: 'string', default: '3' },
			baseline: { type: 'string' },
			'report-dir': { type: 'string' },
			'mongodb-uri': { type: 'string' },
		},
		strict: true,
	});
	const baseline = values.baseline ? resolve(values.baseline) : null;
	for (const dir of [BUILD, baseline]) {
		if (dir && !existsSync(join(dir, 'index.html'))) {
			throw new Error(`no built PWA in ${dir}${dir === BUILD ? ': run npm run build first' : ''}`);
		}
	}
	const reportDir = values['report-dir'] ? resolve(values['report-dir']) : null;
	if (reportDir) mkdirSync(reportDir, { recursive: true });
	return {
		runs: integerOption('runs', values.runs, 1, 20),
		baseline,
		reportDir,
		mongodbUri: values['mongodb-uri'],
	};
}

interface Variant {
	label: string;
	env: Record<string, string>;
}

interface PageFigures {
	signIn: LighthouseScores;
	conversation: LighthouseScores;
	reload: LighthouseScores;
}

/** The median of each figure over the runs. */
function medians(runs: LighthouseScores[]): LighthouseScores {
	const median = (pick: (scores: LighthouseScores) => number) =>
		percentile(
			runs.map(pick).sort((a, b) => a - b),
			0.5,
		);
	return {
		performance: median((s) => s.performance),
		lcpMs: median((s) => s.lcpMs),
		fcpMs: median((s) => s.fcpMs),
		tbtMs: median((s) => s.tbtMs),
		transferKb: median((s) => s.transferKb),
	};
}

/**
 * `count` Lighthouse runs of one page, as their medians. `run` is given where to write its report
 * (with `--report-dir`): `<variant>-<page>-<run>.json`.
 */
async function repeat(
	options: Options,
	what: string,
	run: (reportPath: string | undefined) => Promise<LighthouseScores>,
): Promise<LighthouseScores> {
	const all: LighthouseScores[] = [];
	const slug = what.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
	for (let i = 1; i <= options.runs; i++) {
		process.stderr.write(`lighthouse: ${what}, run ${i}/${options.runs}\n`);
		all.push(await run(options.reportDir ? join(options.reportDir, `${slug}-${i}.json`) : undefined));
	}
	return medians(all);
}

/** One hub serving `variant`, every page measured `runs` times. */
async function measure(
	chromium: DevToolsChromium,
	variant: Variant,
	index: number,
	options: Options,
): Promise<PageFigures> {
	const hub = await startBenchHubProcess(`lighthouse-${index}`, options.mongodbUri, { env: variant.env });
	try {
		const signIn = await repeat(options, `${variant.label}: sign-in page`, async (reportPath) => {
			const { page, close } = await chromium.newTab();
			try {
				return await lighthouse(`${hub.url}/login`, { page, reportPath });
			} finally {
				await close();
			}
		});

		process.stderr.write(`lighthouse: ${variant.label}: signing up and writing a conversation…\n`);
		const person = await openPerson(chromium.browser, hub.url, uniqueName('lh'), PHONE);
		const peer = await newUser(hub.url, uniqueName('peer'));
		try {
			await register(person);
			await startConversation(person, peer.username);
			for (let i = 1; i <= MESSAGES; i++) {
				await send(person, `Message ${i} from ${person.name}, sealed in the browser.`);
				await peer.messenger.send(person.name, `Reply ${i} from ${peer.username}.`);
			}
			await messageLog(person).getByText(`Reply ${MESSAGES} from`).waitFor({ timeout: 15_000 });
			const tab = await chromium.tabOf(person.page);
			const url = `${hub.url}/chat/${peer.username}`;
			const conversation = await repeat(options, `${variant.label}: conversation, first load`, (reportPath) =>
				lighthouse(url, { page: tab, reportPath }),
			);
			// Lighthouse cleared the service worker after each run: install it again, then reload with
			// what it precached, as an installed app reopens.
			await person.page.goto(url);
			await serviceWorkerReady(person);
			const reload = await repeat(options, `${variant.label}: conversation, reload`, (reportPath) =>
				lighthouse(url, { page: tab, keepCaches: true, reportPath }),
			);
			return { signIn, conversation, reload };
		} finally {
			peer.close();
			await person.context.close();
		}
	} finally {
		await hub.close();
	}
}

function report(
	options: Options,
	current: PageFigures,
	baseline: PageFigures,
	baselineLabel: string,
): string {
	const rows: (string | number)[][] = [['', 'this build', 'baseline', 'goal']];
	const page = (name: string, pick: (figures: PageFigures) => LighthouseScores) => {
		const [now, before] = [pick(current), pick(baseline)];
		rows.push(
			[`${name}: performance`, now.performance, before.performance, `≥ ${GOALS.performance}`],
			[`${name}: LCP ms`, now.lcpMs, before.lcpMs, `≤ ${GOALS.lcpMs}`],
			[`${name}: FCP ms`, now.fcpMs, before.fcpMs, ''],
			[`${name}: TBT ms`, now.tbtMs, before.tbtMs, ''],
			[`${name}: transfer KB`, now.transferKb, before.transferKb, ''],
		);
	};
	page('sign-in', (f) => f.signIn);
	page('conversation', (f) => f.conversation);
	page('conversation, reload', (f) => f.reload);
	const verdict = (name: string, scores: LighthouseScores) =>
		`${name} ${scores.performance >= GOALS.performance && scores.lcpMs <= GOALS.lcpMs ? 'meets' : 'misses'}`;
	return [
		`Lighthouse (mobile, simulated throttling), median of ${options.runs} run(s) per figure.`,
		'First loads start with no service worker and empty caches; the reload keeps what the service',
		'worker precached. The conversation tab is signed in and unlocked.',
		`this build: ${BUILD}/ as served (compressed); baseline: ${baselineLabel}.`,
		'',
		table(rows.map((row) => row.map((cell) => (typeof cell === 'number' ? fixed(cell, 0) : cell)))),
		'',
		`Goals (performance and LCP): ${[
			verdict('sign-in', current.signIn),
			verdict('conversation', current.conversation),
			verdict('conversation reload', current.reload),
		].join('; ')}.`,
	].join('\n');
}

async function main(): Promise<number> {
	const options = readOptions(process.argv.slice(2));
	const baselineLabel = options.baseline
		? `${options.baseline} sent uncompressed (STATIC_COMPRESSION=false)`
		: `${BUILD}/ sent uncompressed (STATIC_COMPRESSION=false)`;
	const variants: Variant[] = [
		{ label: 'this build', env: { STATIC_DIR: resolve(BUILD) } },
		{
			label: 'baseline',
			env: { STATIC_DIR: options.baseline ?? resolve(BUILD), STATIC_COMPRESSION: 'false' },
		},
	];
	const chromium = await DevToolsChromium.launch();
	try {
		const [current, baseline] = [
			await measure(chromium, variants[0], 0, options),
			await measure(chromium, variants[1], 1, options),
		];
		process.stdout.write(report(options, current, baseline, baselineLabel) + '\n');
		return 0;
	} finally {
		await chromium.close();
	}
}

process.exitCode = await main();
