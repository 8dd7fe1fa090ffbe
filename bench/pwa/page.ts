/**
 * What bench/pwa.ts measures inside a page, through the DOM and IndexedDB only, so it works on any
 * client that keeps the app's markup (`[role=log]`, `li.msg[data-id]`, `[data-peer]`) and its
 * account database (`hourglass-<username>`, table `messages` with a `[peer+order]` index).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { PASSWORD, type Person } from '../../tests/e2e/support';

/** When a watched set of rows was first in the DOM, and when the frame after it was painted (epoch ms). */
export interface Shown {
	dom: number;
	painted: number;
}

/** What to wait for in the conversation's log. */
export interface ShownSpec {
	key: string;
	/** A row that must be there (the newest message). */
	id?: string;
	/** Rows that must be there, unless those present already fill the log (a virtual list). */
	min: number;
}

interface BenchState {
	longTasks: { start: number; duration: number }[];
	/** When each `sync:pull` frame went out on a WebSocket (epoch ms). */
	syncPulls: number[];
	/** When the page last sent anything on a WebSocket (epoch ms). */
	lastFrameAt: number;
	/** Socket.IO acks the page waits for (ids of `42<id>[…` frames sent, not yet answered by `43<id>[…`). */
	acksPending: Set<string>;
	shown: Record<string, Shown>;
	watch(spec: ShownSpec): void;
}

type BenchWindow = Window & { __hgBench: BenchState };

/**
 * Runs at the start of every document of a context (see probesScript): records long tasks, the
 * `sync:pull` frames sent, and offers `watch`, a MutationObserver that notes when rows show.
 */
export function installProbes(): void {
	const epoch = () => performance.timeOrigin + performance.now();
	const state: BenchState = {
		longTasks: [],
		syncPulls: [],
		lastFrameAt: 0,
		acksPending: new Set(),
		shown: {},
		watch(spec) {
			const shows = () => {
				const log = document.querySelector('[role="log"]');
				if (!log) return false;
				if (spec.id && !log.querySelector(`li.msg[data-id="${spec.id}"]`)) return false;
				const rows = log.querySelectorAll('li.msg');
				if (rows.length >= spec.min) return true;
				if (rows.length === 0) return false;
				return rows[0].getBoundingClientRect().top <= log.getBoundingClientRect().top + 1;
			};
			const done = () => {
				const dom = epoch();
				// The frame that shows the rows: after the next animation frame's paint.
				requestAnimationFrame(() => {
					const channel = new MessageChannel();
					channel.port1.onmessage = () => (state.shown[spec.key] = { dom, painted: epoch() });
					channel.port2.postMessage(null);
				});
			};
			if (shows()) return done();
			const observer = new MutationObserver(() => {
				if (!shows()) return;
				observer.disconnect();
				done();
			});
			// A virtual list may reuse a row's element for another message: its data-id changes.
			observer.observe(document, { childList: true, subtree: true, attributeFilter: ['data-id'] });
		},
	};
	(window as unknown as BenchWindow).__hgBench = state;
	new PerformanceObserver((list) => {
		for (const entry of list.getEntries()) {
			state.longTasks.push({ start: performance.timeOrigin + entry.startTime, duration: entry.duration });
		}
	}).observe({ type: 'longtask', buffered: true });
	const Native = WebSocket;
	const send = Native.prototype.send;
	Native.prototype.send = function (this: WebSocket, data) {
		state.lastFrameAt = epoch();
		if (typeof data === 'string') {
			if (data.includes('"sync:pull"')) state.syncPulls.push(state.lastFrameAt);
			const ack = /^42(\d+)\[/.exec(data);
			if (ack) state.acksPending.add(ack[1]);
		}
		return send.call(this, data);
	};
	window.WebSocket = class extends Native {
		constructor(url: string | URL, protocols?: string | string[]) {
			super(url, protocols);
			this.addEventListener('message', (event: MessageEvent) => {
				const ack = typeof event.data === 'string' ? /^43(\d+)\[/.exec(event.data) : null;
				if (ack) state.acksPending.delete(ack[1]);
			});
		}
	};
}

/**
 * installProbes as an init script. tsx (esbuild's keepNames) wraps the named functions of this
 * file in `__name(fn, "name")`, which the page does not have: the script defines it first, for
 * this and every function later passed to page.evaluate.
 */
export function probesScript(): string {
	return `globalThis.__name ??= (target) => target;\n(${installProbes.toString()})();`;
}

/** Epoch milliseconds with the sub-millisecond resolution the page's marks have. */
export function epochNow(): number {
	return performance.timeOrigin + performance.now();
}

/** Starts watching the page's log for `spec` (see installProbes). */
export async function watchShown(page: Page, spec: ShownSpec): Promise<void> {
	await page.evaluate((s) => (window as unknown as BenchWindow).__hgBench.watch(s), spec);
}

/** Watches for `spec` from the start of the next document the page loads. */
export async function watchShownOnLoad(page: Page, spec: ShownSpec): Promise<{ dispose(): Promise<void> }> {
	return page.addInitScript((s) => (window as unknown as BenchWindow).__hgBench.watch(s), spec);
}

/** When `key` was shown, or null when it was not within `timeoutMs`. */
export async function waitShown(page: Page, key: string, timeoutMs: number): Promise<Shown | null> {
	try {
		const handle = await page.waitForFunction(
			(k) => (window as unknown as BenchWindow).__hgBench.shown[k] ?? null,
			key,
			{ polling: 200, timeout: timeoutMs },
		);
		return (await handle.jsonValue()) as Shown;
	} catch (error) {
		if ((error as Error).name === 'TimeoutError') return null;
		throw error;
	}
}

/** Milliseconds since the document's navigation start when `key` was shown (for a page load). */
export async function shownSinceNavigation(page: Page, key: string): Promise<number> {
	return page.evaluate(
		(k) => (window as unknown as BenchWindow).__hgBench.shown[k].painted - performance.timeOrigin,
		key,
	);
}

export async function longTasks(page: Page): Promise<{ start: number; duration: number }[]> {
	return page.evaluate(() => (window as unknown as BenchWindow).__hgBench.longTasks);
}

export async function syncPulls(page: Page): Promise<number[]> {
	return page.evaluate(() => (window as unknown as BenchWindow).__hgBench.syncPulls);
}

/**
 * Waits (at most `limitMs`) until every socket call of the page has its answer and nothing was
 * sent for half a second: its receipts are stored, so stopping the hub next cuts no write short.
 */
export async function socketSettled(page: Page, limitMs = 60_000): Promise<void> {
	const giveUp = Date.now() + limitMs;
	while (Date.now() < giveUp) {
		const { pending, last } = await page.evaluate(() => {
			const state = (window as unknown as BenchWindow).__hgBench;
			return { pending: state.acksPending.size, last: state.lastFrameAt };
		});
		if (pending === 0 && epochNow() - last > 500) return;
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

/** Signs in as an existing account through the login form (Argon2id in the app's worker). */
export async function signInThroughForm(person: Person, timeoutMs: number): Promise<number> {
	const { page } = person;
	await page.goto('/login');
	await page.getByLabel('Username', { exact: true }).fill(person.name);
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	const clickedAt = epochNow();
	await page.locator('form').getByRole('button', { name: 'Sign in' }).click();
	await page.waitForURL('**/chat', { timeout: timeoutMs });
	return clickedAt;
}

export interface DbTarget {
	db: string;
	peer: string;
}

/**
 * Rows of `peer` in the account database, read with raw IndexedDB through the `[peer+order]`
 * index (any index on exactly those two fields), or by a full scan when there is none. Never
 * creates the database: an open that would is aborted, and counts 0.
 */
export async function countRows(page: Page, target: DbTarget): Promise<number> {
	return page.evaluate(async ({ db: name, peer }) => {
		const db = await new Promise<IDBDatabase | null>((resolve) => {
			const request = indexedDB.open(name);
			request.onupgradeneeded = () => request.transaction?.abort();
			request.onsuccess = () => resolve(request.result);
			request.onerror = () => resolve(null);
		});
		if (!db) return 0;
		try {
			if (!db.objectStoreNames.contains('messages')) return 0;
			const store = db.transaction('messages', 'readonly').objectStore('messages');
			const indexName = Array.from(store.indexNames).find((n) => {
				const path = store.index(n).keyPath;
				return Array.isArray(path) && path.length === 2 && path[0] === 'peer' && path[1] === 'order';
			});
			if (indexName) {
				const range = IDBKeyRange.bound([peer, -Infinity], [peer, Infinity]);
				const request = store.index(indexName).count(range);
				return await new Promise<number>((resolve, reject) => {
					request.onsuccess = () => resolve(request.result);
					request.onerror = () => reject(request.error);
				});
			}
			const request = store.openCursor();
			let count = 0;
			return await new Promise<number>((resolve, reject) => {
				request.onsuccess = () => {
					const cursor = request.result;
					if (!cursor) return resolve(count);
					if ((cursor.value as { peer?: string }).peer === peer) count++;
					cursor.continue();
				};
				request.onerror = () => reject(request.error);
			});
		} finally {
			db.close();
		}
	}, target);
}

/**
 * Resolves with the epoch time at which `peer` has at least `count` rows in the database and a
 * row in the conversation list (checked in the page every 100 ms), or null after `timeoutMs`.
 */
export async function waitSynced(
	page: Page,
	target: DbTarget,
	count: number,
	timeoutMs: number,
): Promise<number | null> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const listed = await page.locator(`[data-peer="${target.peer}"]`).count();
		if (listed > 0 && (await countRows(page, target)) >= count) return epochNow();
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
	return null;
}

/** Writes rows into tables of the account database with raw IndexedDB, in one transaction. */
export async function putRows(page: Page, db: string, rows: Record<string, unknown[]>): Promise<void> {
	await page.evaluate(
		async ({ db: name, rows: byTable }) => {
			const db = await new Promise<IDBDatabase>((resolve, reject) => {
				const request = indexedDB.open(name);
				request.onupgradeneeded = () => request.transaction?.abort();
				request.onsuccess = () => resolve(request.result);
				request.onerror = () => reject(request.error ?? new Error(`putRows: no database ${name}`));
			});
			try {
				const tx = db.transaction(Object.keys(byTable), 'readwrite');
				for (const [table, list] of Object.entries(byTable)) {
					const store = tx.objectStore(table);
					for (const row of list) store.put(row);
				}
				await new Promise<void>((resolve, reject) => {
					tx.oncomplete = () => resolve();
					tx.onerror = () => reject(tx.error);
					tx.onabort = () => reject(tx.error);
				});
			} finally {
				db.close();
			}
		},
		{ db, rows },
	);
}

/** Milliseconds for each of `runs` raw-cursor reads of the latest `n` rows of `peer` (newest first). */
export async function rawLatest(page: Page, target: DbTarget, n: number, runs: number): Promise<number[]> {
	return page.evaluate(
		async ({ db: name, peer, n, runs }) => {
			const db = await new Promise<IDBDatabase>((resolve, reject) => {
				const request = indexedDB.open(name);
				request.onsuccess = () => resolve(request.result);
				request.onerror = () => reject(request.error);
			});
			const probe = db.transaction('messages', 'readonly').objectStore('messages');
			const indexName = Array.from(probe.indexNames).find((i) => {
				const path = probe.index(i).keyPath;
				return Array.isArray(path) && path[0] === 'peer' && path[1] === 'order';
			});
			if (!indexName) throw new Error('rawLatest: no [peer+order] index');
			const times: number[] = [];
			for (let run = 0; run < runs; run++) {
				const start = performance.now();
				const rows = await new Promise<unknown[]>((resolve, reject) => {
					const index = db.transaction('messages', 'readonly').objectStore('messages').index(indexName);
					const request = index.openCursor(IDBKeyRange.bound([peer, -Infinity], [peer, Infinity]), 'prev');
					const found: unknown[] = [];
					request.onsuccess = () => {
						const cursor = request.result;
						if (cursor) found.push(cursor.value);
						if (!cursor || found.length === n) resolve(found);
						else cursor.continue();
					};
					request.onerror = () => reject(request.error);
				});
				times.push(performance.now() - start);
				if (rows.length === 0) throw new Error('rawLatest: no rows');
			}
			db.close();
			return times;
		},
		{ ...target, n, runs },
	);
}

const require = createRequire(import.meta.url);

/**
 * Milliseconds for each of `runs` Dexie reads of the latest `n` rows of `peer`, as the app reads
 * them (`where('[peer+order]')…reverse().limit(n)`), with the project's Dexie loaded into the page
 * (the app's bundle does not expose its own), opening the database by its stored schema.
 */
export async function dexieLatest(page: Page, target: DbTarget, n: number, runs: number): Promise<number[]> {
	const loaded = await page.evaluate(() => 'Dexie' in window);
	if (!loaded) await page.evaluate(readFileSync(require.resolve('dexie/dist/dexie.js'), 'utf8'));
	return page.evaluate(
		async ({ db: name, peer, n, runs }) => {
			interface Collection {
				reverse(): Collection;
				limit(n: number): Collection;
				toArray(): Promise<unknown[]>;
			}
			interface DexieDb {
				open(): Promise<unknown>;
				close(): void;
				table(name: string): {
					where(index: string): { between(lower: unknown, upper: unknown): Collection };
				};
			}
			const Dexie = (
				window as unknown as { Dexie: { new (name: string): DexieDb; minKey: unknown; maxKey: unknown } }
			).Dexie;
			const db = new Dexie(name);
			await db.open();
			const times: number[] = [];
			for (let run = 0; run < runs; run++) {
				const start = performance.now();
				const rows = await db
					.table('messages')
					.where('[peer+order]')
					.between([peer, Dexie.minKey], [peer, Dexie.maxKey])
					.reverse()
					.limit(n)
					.toArray();
				times.push(performance.now() - start);
				if (rows.length === 0) throw new Error('dexieLatest: no rows');
			}
			db.close();
			return times;
		},
		{ ...target, n, runs },
	);
}
