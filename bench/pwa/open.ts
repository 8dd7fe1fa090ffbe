/**
 * Section 3 of bench/pwa.ts: opening the latest 50 messages of a long conversation. The account
 * database is seeded in the page with rows in the app's own format (`MessageRow`, texts sealed
 * with the account's history key, which a Node SDK sign-in opens from the key backup as the
 * PWA does), growing through the sizes asked for. Measured at each size: clicking the conversation in
 * the list → the latest 50 shown (cold after a reload, then warm), a page load of /chat/<peer>
 * → the same, and a Dexie read of the latest 50 as the app writes it; baseline: a raw IndexedDB
 * cursor over the `[peer+order]` index, newest first, 50 rows. Then the tab's memory (renderer
 * private footprint, JS heap after a GC) before any search, the first search (Ctrl+K, one word:
 * first results, all indexed), and the memory once the search index is built.
 */
import { v7 as uuidv7 } from 'uuid';
import { accountDbName, sealText, type ConversationRow, type MessageRow } from '../../src/lib/client/db';
import { HubApi, signIn } from '../../src/lib/sdk';
import { PASSWORD, register } from '../../tests/e2e/support';
import { newUser, uniqueName } from '../../tests/helpers/users';
import { fixed, table } from '../lib/stats';
import { mb, median, ms, newPerson, pageErrors, type PwaEnv, type Row } from './common';
import {
	dexieLatest,
	epochNow,
	putRows,
	rawLatest,
	shownSinceNavigation,
	waitShown,
	watchShownOnLoad,
	type DbTarget,
	type ShownSpec,
} from './page';
import type { Page } from 'playwright-core';
import { memoryOf, rendererOf } from './proc';

const LATEST = 50;
const OPEN_GOAL_MS = 50;
const DEXIE_GOAL_RATIO = 2;
const READ_RUNS = 5;
const WARM_OPENS = 4;
const PAGE_LOADS = 3;
const SEED_BATCH = 5_000;
const MEMORY_GOAL_BYTES = 100 * 2 ** 20;
/** A word in every seeded text: the first search finds the best 100 at once, then all are indexed. */
const SEARCH_WORD = 'quick';
/** Seeded messages are this far apart, newest a minute ago. */
const STEP_MS = 30_000;

export interface OpenAtSize {
	stored: number;
	rawMs: number;
	dexieMs: number | null;
	openColdMs: number | null;
	openWarmMs: number | null;
	pageLoadMs: number | null;
	/** The newest message's text was on screen (the seeded rows open with the account's key). */
	readable: boolean;
	/** Renderer private memory and JS heap (after a GC) with the conversation open, before any search. */
	before: TabMemory;
	/** The first search after the reload: until its first results, and until everything was indexed. */
	firstResultsMs: number | null;
	indexedMs: number | null;
	/** The same once the search index is built. */
	searched: TabMemory | null;
}

interface TabMemory {
	private: number;
	heap: number;
}

async function tabMemory(page: Page, pid: number): Promise<TabMemory> {
	const cdp = await page.context().newCDPSession(page);
	try {
		await cdp.send('HeapProfiler.collectGarbage');
		const { usedSize } = await cdp.send('Runtime.getHeapUsage');
		return { private: memoryOf(pid).private, heap: usedSize };
	} finally {
		await cdp.detach();
	}
}

/** Opens the search with Ctrl+K and types a word: ms until the first results, and until all is indexed. */
async function firstSearch(
	page: Page,
	timeoutMs: number,
): Promise<{ first: number | null; all: number | null }> {
	const start = epochNow();
	await page.keyboard.press('Control+K');
	await page.getByLabel('Words to find').fill(SEARCH_WORD);
	const summary = page.locator('p.summary');
	let first: number | null = null;
	while (epochNow() - start < timeoutMs) {
		const text = ((await summary.textContent()) ?? '').trim();
		const answered = text !== '' && !text.startsWith('Indexing');
		if (answered && first === null) first = epochNow() - start;
		if (answered && !text.includes('still indexing')) return { first, all: epochNow() - start };
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	return { first, all: null };
}

export interface OpenResult {
	sizes: OpenAtSize[];
	timeoutMs: number;
	notes: string[];
}

/** Seeded row `i` (0 = newest): alternately incoming and outgoing, its text sealed as the app seals it. */
function seededRow(peer: string, i: number, newestAt: number, localKey: Uint8Array): MessageRow {
	const at = newestAt - i * STEP_MS;
	const out = i % 2 === 1;
	return {
		id: uuidv7(),
		peer,
		direction: out ? 'out' : 'in',
		status: out ? 'delivered' : 'received',
		order: at,
		sentAt: at - 40,
		storedAt: at,
		unlockAt: null,
		releasedAt: null,
		announce: false,
		text: sealText(textOf(i), localKey),
		problem: null,
		error: null,
	};
}

function textOf(i: number): string {
	return `Seeded message ${i}: the quick brown fox jumps over the lazy dog.`;
}

/** The key the account's history is sealed under (the history key in its key backup), as a second device opens it. */
async function localKeyOf(url: string, username: string): Promise<Uint8Array> {
	const device = new HubApi({ baseUrl: url, keepCookies: true });
	const account = await signIn(device, username, PASSWORD);
	await device.logout();
	return account.localKey;
}

/** Clicks the conversation in the list and returns the milliseconds until the latest rows were shown. */
async function openFromList(
	page: Page,
	peer: string,
	spec: ShownSpec,
	timeoutMs: number,
): Promise<number | null> {
	await page.locator(`[data-peer="${peer}"] a`).waitFor({ timeout: timeoutMs });
	const clickedAt = await page.evaluate(
		({ spec, peer }) => {
			const start = performance.timeOrigin + performance.now();
			(window as unknown as { __hgBench: { watch(s: ShownSpec): void } }).__hgBench.watch(spec);
			document.querySelector<HTMLAnchorElement>(`[data-peer="${peer}"] a`)?.click();
			return start;
		},
		{ spec, peer },
	);
	const shown = await waitShown(page, spec.key, timeoutMs);
	return shown === null ? null : shown.painted - clickedAt;
}

async function backToList(page: Page, timeoutMs: number): Promise<void> {
	await page.goBack();
	await page.getByRole('log').waitFor({ state: 'detached', timeout: timeoutMs });
}

async function measureSize(
	page: Page,
	target: DbTarget,
	stored: number,
	newestId: string,
	timeoutMs: number,
): Promise<OpenAtSize> {
	const spec = (key: string): ShownSpec => ({ key, id: newestId, min: Math.min(LATEST, stored) });
	// A fresh app: nothing of this conversation decrypted or held in memory yet.
	await page.goto('/chat');
	const coldKey = `open-cold-${stored}`;
	const openColdMs = await openFromList(page, target.peer, spec(coldKey), timeoutMs);
	const readable =
		(await page.getByRole('log').textContent({ timeout: timeoutMs }))?.includes(textOf(0)) ?? false;
	const warm: number[] = [];
	for (let run = 0; run < WARM_OPENS && openColdMs !== null; run++) {
		await backToList(page, timeoutMs);
		const took = await openFromList(page, target.peer, spec(`open-warm-${stored}-${run}`), timeoutMs);
		if (took === null) break;
		warm.push(took);
	}

	const loads: number[] = [];
	for (let run = 0; run < PAGE_LOADS; run++) {
		const key = `load-${stored}-${run}`;
		const armed = await watchShownOnLoad(page, spec(key));
		await page.goto(`/chat/${target.peer}`);
		const shown = await waitShown(page, key, timeoutMs);
		await armed.dispose();
		if (shown === null) break;
		loads.push(await shownSinceNavigation(page, key));
	}

	const raw = (await rawLatest(page, target, LATEST, READ_RUNS + 1)).slice(1);
	let dexieMs: number | null = null;
	try {
		dexieMs = median((await dexieLatest(page, target, LATEST, READ_RUNS + 1)).slice(1));
	} catch {
		// A client whose database Dexie cannot open by its stored schema: the other figures stand.
	}

	const pid = await rendererOf(page);
	const before = await tabMemory(page, pid);
	const search = await firstSearch(page, timeoutMs);
	const searched = search.all === null ? null : await tabMemory(page, pid);
	return {
		before,
		firstResultsMs: search.first,
		indexedMs: search.all,
		searched,
		stored,
		rawMs: median(raw),
		dexieMs,
		openColdMs,
		openWarmMs: warm.length ? median(warm) : null,
		pageLoadMs: loads.length ? median(loads) : null,
		readable,
	};
}

export async function runOpen(env: PwaEnv, sizes: number[]): Promise<OpenResult> {
	const { timeoutMs } = env;
	const peer = await newUser(env.url, uniqueName('open_peer'));
	peer.close();
	const person = await newPerson(env, 'openweb');
	try {
		await register(person);
		const localKey = await localKeyOf(env.url, person.name);
		const target = { db: accountDbName(person.name), peer: peer.username };
		const newestAt = Date.now() - 60_000;
		// `lastId`: a client that keeps the last message's id on the conversation (its list preview)
		// finds it there; one that does not ignores it.
		let conversation: (ConversationRow & { lastId: string }) | null = null;
		let seeded = 0;
		const results: OpenAtSize[] = [];
		for (const size of [...sizes].sort((a, b) => a - b)) {
			process.stderr.write(`pwa bench: seeding ${size} messages in IndexedDB…\n`);
			const seedStart = epochNow();
			while (seeded < size) {
				const rows: MessageRow[] = [];
				for (; seeded < size && rows.length < SEED_BATCH; seeded++) {
					rows.push(seededRow(peer.username, seeded, newestAt, localKey));
				}
				conversation ??= { peer: peer.username, lastAt: newestAt, unread: 0, lastId: rows[0].id };
				await putRows(person.page, target.db, { messages: rows, conversations: [conversation] });
			}
			process.stderr.write(
				`pwa bench: seeded in ${fixed((epochNow() - seedStart) / 1000)} s; opening the conversation…\n`,
			);
			results.push(await measureSize(person.page, target, size, conversation?.lastId ?? '', timeoutMs));
		}
		return { sizes: results, timeoutMs, notes: pageErrors(person) };
	} finally {
		await person.context.close();
	}
}

export function openRows(r: OpenResult): Row[] {
	const rows: Row[] = [];
	for (const s of r.sizes) {
		const raw = `${ms(s.rawMs)} raw cursor`;
		rows.push(
			{
				figure: `${s.stored}: open from the list → latest ${LATEST} shown (cold)`,
				measured: ms(s.openColdMs, r.timeoutMs),
				baseline: raw,
				goal: `≤ ${OPEN_GOAL_MS} ms`,
				met: s.openColdMs !== null && s.openColdMs <= OPEN_GOAL_MS,
			},
			{
				figure: `${s.stored}: open from the list (warm, median of ${WARM_OPENS})`,
				measured: ms(s.openWarmMs, r.timeoutMs),
				baseline: raw,
				goal: `≤ ${OPEN_GOAL_MS} ms`,
				met: s.openWarmMs !== null && s.openWarmMs <= OPEN_GOAL_MS,
			},
			{
				figure: `${s.stored}: page load of /chat/<peer> → shown`,
				measured: ms(s.pageLoadMs, r.timeoutMs),
				baseline: '',
				goal: '',
				met: null,
			},
			{
				figure: `${s.stored}: Dexie read of the latest ${LATEST} via [peer+order]`,
				measured: ms(s.dexieMs),
				baseline: raw,
				goal: `≤ ${DEXIE_GOAL_RATIO}× raw`,
				met: s.dexieMs !== null && s.dexieMs <= DEXIE_GOAL_RATIO * s.rawMs,
			},
		);
		rows.push(
			{
				figure: `${s.stored}: tab memory, no search yet (private / JS heap)`,
				measured: `${mb(s.before.private)} / ${mb(s.before.heap)}`,
				baseline: '',
				goal: `≤ ${mb(MEMORY_GOAL_BYTES)}`,
				met: s.before.private <= MEMORY_GOAL_BYTES,
			},
			{
				figure: `${s.stored}: first search → first results / all indexed`,
				measured: `${ms(s.firstResultsMs, r.timeoutMs)} / ${ms(s.indexedMs, r.timeoutMs)}`,
				baseline: '',
				goal: '',
				met: null,
			},
			{
				figure: `${s.stored}: tab memory once searched (private / JS heap)`,
				measured: s.searched ? `${mb(s.searched.private)} / ${mb(s.searched.heap)}` : '–',
				baseline: '',
				goal: '',
				met: null,
			},
		);
		if (!s.readable) {
			rows.push({
				figure: `${s.stored}: newest seeded text on screen`,
				measured: 'no',
				baseline: '',
				goal: 'yes',
				met: false,
			});
		}
	}
	return rows;
}

/** How each figure grows with the stored history. */
export function openGrowth(r: OpenResult): string {
	return table([
		['stored', 'raw cursor ms', 'Dexie ms', 'open cold ms', 'open warm ms', 'page load ms'],
		...r.sizes.map((s) => [
			String(s.stored),
			fixed(s.rawMs),
			s.dexieMs === null ? '–' : fixed(s.dexieMs),
			s.openColdMs === null ? 'timed out' : fixed(s.openColdMs),
			s.openWarmMs === null ? '–' : fixed(s.openWarmMs),
			s.pageLoadMs === null ? '–' : fixed(s.pageLoadMs),
		]),
	]);
}
