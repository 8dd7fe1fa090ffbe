/**
 * Section 4 of bench/pwa.ts: a signed-in tab left idle on an open conversation of ~200 messages,
 * a few of them announced time-locks `--idle-lock-minutes` ahead (a day by default: their countdowns
 * tick once a minute; in their last two minutes they show seconds and tick every second). Measured over two
 * windows: the first minute after the tab settled (V8's memory reducer collects the garbage of the
 * sign-in, sync and open then: a few major GCs, once), and the idle window that follows, which the
 * goal is about. In each: the page's main-thread task and script time (CDP Performance.getMetrics
 * TaskDuration, ScriptDuration) and its renderer process's CPU time (all threads, /proc); after the
 * idle window, the JS heap after a GC and the renderer's memory. Baseline: the same for a tab idle on
 * the sign-in page, over the same windows.
 */
import type { CDPSession, Page } from 'playwright-core';
import { accountDbName } from '../../src/lib/client/db';
import { HubApi, createAccount } from '../../src/lib/sdk';
import { PASSWORD, type Person } from '../../tests/e2e/support';
import { newUser, uniqueName } from '../../tests/helpers/users';
import { mb, ms, newPerson, pageErrors, sealMany, sendAll, type PwaEnv, type Row } from './common';
import { signInThroughForm, waitSynced } from './page';
import { cpuMs, memoryOf, rendererOf, type ProcessMemory } from './proc';

const TIMELOCKS = 5;
const CPU_GOAL_MS_PER_MINUTE = 50;
const MEMORY_GOAL_BYTES = 100 * 2 ** 20;
/** The idle window starts once a page's tasks took less than this over QUIET_WINDOW_MS. */
const QUIET_TASK_MS = 30;
const QUIET_WINDOW_MS = 2_000;
const QUIET_LIMIT_MS = 30_000;
/** The window measured after the tab settled and before the idle window: the open's garbage collected. */
const SETTLING_MS = 60_000;

export interface CpuWindow {
	taskMsPerMinute: number;
	scriptMsPerMinute: number;
	rendererCpuMsPerMinute: number;
}

export interface IdleTab extends CpuWindow {
	/** The minute before the idle window, right after the tab settled. */
	settling: CpuWindow;
	heapUsed: number;
	renderer: ProcessMemory;
	nodes: number;
}

export interface IdleResult {
	messages: number;
	seconds: number;
	countdowns: number;
	app: IdleTab;
	signInPage: IdleTab;
	notes: string[];
}

interface Probe {
	page: Page;
	cdp: CDPSession;
	pid: number;
}

async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
	const { metrics: list } = await cdp.send('Performance.getMetrics');
	return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

async function probe(person: Person): Promise<Probe> {
	const cdp = await person.context.newCDPSession(person.page);
	await cdp.send('Performance.enable');
	return { page: person.page, cdp, pid: await rendererOf(person.page) };
}

const sleep = (msToWait: number) => new Promise((resolve) => setTimeout(resolve, msToWait));

/** Waits (at most QUIET_LIMIT_MS) until the page's main thread has settled after loading. */
async function quiet(p: Probe): Promise<void> {
	const giveUp = Date.now() + QUIET_LIMIT_MS;
	let before = (await metrics(p.cdp)).TaskDuration;
	while (Date.now() < giveUp) {
		await sleep(QUIET_WINDOW_MS);
		const now = (await metrics(p.cdp)).TaskDuration;
		if ((now - before) * 1000 < QUIET_TASK_MS) return;
		before = now;
	}
}

async function cpuWindows(probes: Probe[], windowMs: number): Promise<CpuWindow[]> {
	const sample = () => Promise.all(probes.map(async (p) => ({ m: await metrics(p.cdp), cpu: cpuMs(p.pid) })));
	const start = await sample();
	await sleep(windowMs);
	const end = await sample();
	const perMinute = 60_000 / windowMs;
	return probes.map((_, i) => ({
		taskMsPerMinute: (end[i].m.TaskDuration - start[i].m.TaskDuration) * 1000 * perMinute,
		scriptMsPerMinute: (end[i].m.ScriptDuration - start[i].m.ScriptDuration) * 1000 * perMinute,
		rendererCpuMsPerMinute: (end[i].cpu - start[i].cpu) * perMinute,
	}));
}

async function measureIdle(probes: Probe[], idleMs: number): Promise<IdleTab[]> {
	const settling = await cpuWindows(probes, SETTLING_MS);
	const idle = await cpuWindows(probes, idleMs);
	const tabs: IdleTab[] = [];
	for (const [i, p] of probes.entries()) {
		await p.cdp.send('HeapProfiler.collectGarbage');
		const after = await metrics(p.cdp);
		tabs.push({
			...idle[i],
			settling: settling[i],
			heapUsed: after.JSHeapUsedSize,
			renderer: memoryOf(p.pid),
			nodes: after.Nodes,
		});
	}
	return tabs;
}

/**
 * `lockAheadMinutes`: how far ahead the time-locks unlock. A countdown shows minutes and ticks once
 * a minute until its last two minutes; then it shows seconds and ticks every second.
 */
export async function runIdle(
	env: PwaEnv,
	messages: number,
	idleSeconds: number,
	lockAheadMinutes: number,
): Promise<IdleResult> {
	const { timeoutMs } = env;
	const sender = await newUser(env.url, uniqueName('idle_send'));
	const username = uniqueName('idleweb');
	await createAccount(new HubApi({ baseUrl: env.url, keepCookies: true }), username, PASSWORD);
	const locks = Math.min(TIMELOCKS, messages);
	const plain = await sealMany(sender.messenger, username, messages - locks);
	if (plain.length > 0) await sendAll(sender.messenger, plain, timeoutMs);
	for (let i = 0; i < locks; i++) {
		await sender.messenger.send(username, `Time-locked ${i + 1}: opens in about an hour.`, {
			unlockAt: Date.now() + lockAheadMinutes * 60_000 + i * 60_000,
			announce: true,
		});
	}
	sender.close();

	const app = await newPerson(env, 'idleweb', username);
	const signInPage = await newPerson(env, 'idlelogin');
	try {
		process.stderr.write(`pwa bench: a tab signs in and opens ${messages} messages…\n`);
		await signInThroughForm(app, timeoutMs);
		const target = { db: accountDbName(username), peer: sender.username };
		const synced = await waitSynced(app.page, target, messages, timeoutMs);
		await app.page.locator(`[data-peer="${sender.username}"] a`).click();
		const log = app.page.getByRole('log');
		await log.locator('li.msg').first().waitFor({ timeout: timeoutMs });
		if (locks > 0) await log.getByRole('timer').first().waitFor({ timeout: timeoutMs });
		const countdowns = await log.getByRole('timer').count();
		await signInPage.page.goto('/login');
		await signInPage.page.getByLabel('Username', { exact: true }).waitFor({ timeout: timeoutMs });

		const probes = [await probe(app), await probe(signInPage)];
		await Promise.all(probes.map(quiet));
		process.stderr.write(
			`pwa bench: both tabs settle for ${SETTLING_MS / 1000} s, then idle for ${idleSeconds} s…\n`,
		);
		const [appTab, signInTab] = await measureIdle(probes, idleSeconds * 1000);
		const notes = probes[0].pid === probes[1].pid ? ['both tabs share one renderer process'] : [];
		if (synced === null) notes.push(`the tab had not synced all ${messages} after ${timeoutMs / 1000} s`);
		// A worker kept alive holds its memory in the renderer (Argon2id's 64 MiB, for the KDF worker).
		const workers = app.page.workers().map((w) => w.url().split('/').pop() ?? w.url());
		notes.push(`workers alive in the signed-in tab: ${workers.length ? workers.join(', ') : 'none'}`);
		return {
			messages,
			seconds: idleSeconds,
			countdowns,
			app: appTab,
			signInPage: signInTab,
			notes: [...notes, ...pageErrors(app), ...pageErrors(signInPage)],
		};
	} finally {
		await app.context.close();
		await signInPage.context.close();
	}
}

export function idleRows(r: IdleResult): Row[] {
	const { app, signInPage: base } = r;
	return [
		{
			figure: 'first minute after settling: main-thread task time',
			measured: ms(app.settling.taskMsPerMinute),
			baseline: ms(base.settling.taskMsPerMinute),
			goal: '',
			met: null,
		},
		{
			figure: 'first minute after settling: renderer CPU, all threads',
			measured: ms(app.settling.rendererCpuMsPerMinute),
			baseline: ms(base.settling.rendererCpuMsPerMinute),
			goal: '',
			met: null,
		},
		{
			figure: 'idle: main-thread task time (TaskDuration) per minute',
			measured: ms(app.taskMsPerMinute),
			baseline: ms(base.taskMsPerMinute),
			goal: `≤ ${CPU_GOAL_MS_PER_MINUTE} ms`,
			met: app.taskMsPerMinute <= CPU_GOAL_MS_PER_MINUTE,
		},
		{
			figure: 'idle: script time (ScriptDuration) per minute',
			measured: ms(app.scriptMsPerMinute),
			baseline: ms(base.scriptMsPerMinute),
			goal: '',
			met: null,
		},
		{
			figure: 'idle: renderer process CPU, all threads, per minute',
			measured: ms(app.rendererCpuMsPerMinute),
			baseline: ms(base.rendererCpuMsPerMinute),
			goal: '',
			met: null,
		},
		{
			figure: 'renderer private memory (footprint)',
			measured: mb(app.renderer.private),
			baseline: mb(base.renderer.private),
			goal: `≤ ${mb(MEMORY_GOAL_BYTES)}`,
			met: app.renderer.private <= MEMORY_GOAL_BYTES,
		},
		{
			figure: 'renderer RSS (shared pages too)',
			measured: mb(app.renderer.rss),
			baseline: mb(base.renderer.rss),
			goal: '',
			met: null,
		},
		{
			figure: 'JS heap used after a GC',
			measured: mb(app.heapUsed),
			baseline: mb(base.heapUsed),
			goal: '',
			met: null,
		},
		{
			figure: 'DOM nodes',
			measured: String(app.nodes),
			baseline: String(base.nodes),
			goal: '',
			met: null,
		},
	];
}
