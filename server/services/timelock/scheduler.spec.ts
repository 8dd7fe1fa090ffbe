import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DueHeap } from './due-heap';
import { TimelockScheduler, type LockedRef, type SchedulerOptions } from './scheduler';

/** Lets pending promise callbacks run (real macrotask: the fake clock does not touch it). */
const settle = async () => {
	for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
};

const T0 = 1_700_000_000_000;

/**
 * Time under Vitest's fake timers (setTimeout, clearTimeout, Date), moved the way the hub's event
 * loop would: each timer runs at its time, in order, and the promises it starts settle before the
 * next one runs.
 */
const clock = {
	now: () => Date.now(),
	get pendingTimers(): number {
		return vi.getTimerCount();
	},
	/** Moves time without running anything: "the same instant, before the timer fires". */
	set(t: number): void {
		vi.setSystemTime(t);
	},
	/** Runs every timer due up to `t`, in order, letting promises settle after each. */
	async advanceTo(t: number): Promise<void> {
		await settle();
		let reached = false;
		setTimeout(() => (reached = true), Math.max(0, t - Date.now()));
		while (!reached) {
			vi.advanceTimersToNextTimer();
			await settle();
		}
		// Timers that those at `t` set for `t` itself.
		for (let i = 0; i < 3; i += 1) {
			vi.advanceTimersByTime(0);
			await settle();
		}
	},
	advance(ms: number): Promise<void> {
		return clock.advanceTo(Date.now() + ms);
	},
};

beforeEach(() => {
	vi.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(() => {
	vi.useRealTimers();
});

interface Deferred {
	promise: Promise<void>;
	resolve(): void;
	reject(error: Error): void;
}

function deferred(): Deferred {
	let resolve!: () => void;
	let reject!: (error: Error) => void;
	const promise = new Promise<void>((res, rej) => {
		resolve = res;
		reject = rej;
	});
	return { promise, resolve, reject };
}

/** An in-memory store of locked envelopes and a release that records what it did, and when. */
function harness(options: Partial<SchedulerOptions> = {}, { keepCopies = false } = {}) {
	const locked = new Map<string, number>();
	/** With keepCopies, released envelopes stay in `locked` (a copy not yet removed) and are marked here. */
	const decided = new Set<string>();
	const releases: { id: string; at: number; batch: number }[] = [];
	const batches: string[][] = [];
	const reads: { until: number; limit: number; after: LockedRef | null }[] = [];
	let active = 0;
	let maxActive = 0;
	const control: { gate: Deferred | null; readGate: Deferred | null; fail: number; failRead: number } = {
		gate: null,
		readGate: null,
		fail: 0,
		failRead: 0,
	};

	const scheduler = new TimelockScheduler({
		source: {
			async dueBefore(until, limit, after) {
				reads.push({ until, limit, after });
				if (control.failRead > 0) {
					control.failRead -= 1;
					throw new Error('database down');
				}
				const found = [...locked.entries()]
					.filter(([, unlockAt]) => unlockAt <= until)
					.filter(
						([id, unlockAt]) =>
							!after || unlockAt > after.unlockAt || (unlockAt === after.unlockAt && id > after.id),
					)
					.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
					.slice(0, limit)
					.map(([id, unlockAt]) => ({ id, unlockAt }));
				// A slow read: what it found may be stale by the time it answers.
				if (control.readGate) await control.readGate.promise;
				return found;
			},
		},
		async release(ids) {
			active += 1;
			maxActive = Math.max(maxActive, active);
			try {
				if (control.gate) await control.gate.promise;
				if (control.fail > 0) {
					control.fail -= 1;
					throw new Error('write failed');
				}
				batches.push(ids);
				for (const id of ids) {
					// The store's claim: only a locked envelope is released, and only once it is due.
					const unlockAt = locked.get(id);
					if (unlockAt === undefined || unlockAt > clock.now() || decided.has(id)) continue;
					if (keepCopies) decided.add(id);
					else locked.delete(id);
					releases.push({ id, at: clock.now(), batch: batches.length });
				}
			} finally {
				active -= 1;
			}
		},
		...options,
	});

	const store = (id: string, unlockAt: number): LockedRef => {
		locked.set(id, unlockAt);
		return { id, unlockAt };
	};
	return {
		clock,
		scheduler,
		store,
		locked,
		releases,
		batches,
		reads,
		control,
		maxActive: () => maxActive,
		releasedIds: () => releases.map((r) => r.id),
	};
}

describe('DueHeap', () => {
	it('pops entries by due time, then id', () => {
		const heap = new DueHeap();
		const times = [50, 10, 40, 10, 30, 20, 0, 50];
		times.forEach((at, i) => heap.push({ id: `m${i}`, at }));
		const out: string[] = [];
		for (let e = heap.pop(); e; e = heap.pop()) out.push(`${e.at}:${e.id}`);
		expect(out).toEqual(['0:m6', '10:m1', '10:m3', '20:m5', '30:m4', '40:m2', '50:m0', '50:m7']);
	});
});

describe('TimelockScheduler', () => {
	it('releases each envelope at its unlock time, in order, never before', async () => {
		const h = harness();
		h.store('c', T0 + 3_000);
		h.store('a', T0 + 1_000);
		h.store('b', T0 + 2_000);
		await h.scheduler.start();

		await h.clock.advanceTo(T0 + 999);
		expect(h.releases).toEqual([]);
		await h.clock.advanceTo(T0 + 3_000);
		expect(h.releases.map((r) => [r.id, r.at])).toEqual([
			['a', T0 + 1_000],
			['b', T0 + 2_000],
			['c', T0 + 3_000],
		]);
		await h.scheduler.stop();
	});

	it('releases at once what was already due when it starts (downtime, restart)', async () => {
		const h = harness();
		h.store('long-ago', T0 - 3_600_000);
		h.store('just-now', T0 - 1);
		h.store('later', T0 + 500);
		await h.scheduler.start();
		await h.clock.advance(0);
		expect(h.releases.map((r) => [r.id, r.at])).toEqual([
			['long-ago', T0],
			['just-now', T0],
		]);
		await h.clock.advance(500);
		expect(h.releasedIds()).toEqual(['long-ago', 'just-now', 'later']);
		await h.scheduler.stop();
	});

	it('keeps only the window in memory and refills it from the store', async () => {
		const h = harness({ windowMs: 60_000, refillEveryMs: 20_000 });
		h.store('far', T0 + 90_000);
		h.store('near', T0 + 10_000);
		await h.scheduler.start();
		expect(h.scheduler.stats().waiting).toBe(1);
		expect(h.reads).toEqual([{ until: T0 + 60_000, limit: 20_000, after: null }]);

		// Stored by another hub: no notify reaches this one, a refill finds it.
		h.store('elsewhere', T0 + 45_000);
		await h.clock.advanceTo(T0 + 20_000);
		expect(h.reads.at(-1)).toEqual({ until: T0 + 80_000, limit: 20_000, after: null });
		expect(h.scheduler.stats().waiting).toBe(1);

		await h.clock.advanceTo(T0 + 100_000);
		expect(h.releases.map((r) => [r.id, r.at])).toEqual([
			['near', T0 + 10_000],
			['elsewhere', T0 + 45_000],
			['far', T0 + 90_000],
		]);
		await h.scheduler.stop();
	});

	it('schedules a newly stored envelope without waiting for a refill', async () => {
		const h = harness();
		await h.scheduler.start();
		await h.clock.advance(1_000);
		const readsBefore = h.reads.length;
		h.scheduler.notify(h.store('new', T0 + 3_500));
		await h.clock.advanceTo(T0 + 3_499);
		expect(h.releases).toEqual([]);
		await h.clock.advanceTo(T0 + 3_500);
		expect(h.releases).toEqual([{ id: 'new', at: T0 + 3_500, batch: 1 }]);
		expect(h.reads.length).toBe(readsBefore);
		// Notified twice (a resend): still scheduled once.
		h.scheduler.notify(h.store('twice', T0 + 4_000));
		h.scheduler.notify({ id: 'twice', unlockAt: T0 + 4_000 });
		await h.clock.advanceTo(T0 + 4_000);
		expect(h.batches.flat().filter((id) => id === 'twice')).toHaveLength(1);
		await h.scheduler.stop();
	});

	it('leaves a notify beyond the window to a later refill', async () => {
		const h = harness({ windowMs: 60_000, refillEveryMs: 20_000 });
		await h.scheduler.start();
		h.scheduler.notify(h.store('next-week', T0 + 7 * 86_400_000));
		expect(h.scheduler.stats().waiting).toBe(0);
		await h.scheduler.stop();
	});

	it('takes a notify beyond the window that the source has read past already (a whole due slot)', async () => {
		const released: string[] = [];
		const scheduler = new TimelockScheduler({
			// The source read slots up to T0 + 120 s: no later read brings what is due by then.
			source: { dueBefore: async () => [], horizon: () => T0 + 120_000 },
			release: async (ids) => void released.push(...ids),
			windowMs: 60_000,
			refillEveryMs: 20_000,
		});
		await scheduler.start();
		expect(scheduler.notify({ id: 'in-slot', unlockAt: T0 + 90_000 })).toBe(true);
		expect(scheduler.notify({ id: 'past-slot', unlockAt: T0 + 121_000 })).toBe(false);
		await clock.advanceTo(T0 + 90_000);
		expect(released).toEqual(['in-slot']);
		await scheduler.stop();
	});

	it('releases many envelopes due at the same instant in bounded batches, each once', async () => {
		const h = harness({ batchMax: 100, concurrency: 2 });
		const due = T0 + 5_000;
		for (let i = 0; i < 1_000; i += 1) h.store(`m${String(i).padStart(4, '0')}`, due);
		await h.scheduler.start();
		expect(h.clock.pendingTimers).toBe(1);
		h.control.gate = deferred();
		await h.clock.advanceTo(due);
		expect(h.maxActive()).toBe(2);
		h.control.gate.resolve();
		await h.clock.advance(0);
		await h.clock.advance(0);

		const ids = h.releasedIds();
		expect(ids).toHaveLength(1_000);
		expect(new Set(ids).size).toBe(1_000);
		expect(h.releases.every((r) => r.at === due)).toBe(true);
		expect(Math.max(...h.batches.map((b) => b.length))).toBe(100);
		expect(h.maxActive()).toBe(2);
		await h.scheduler.stop();
	});

	it('arms one timer however many envelopes wait', async () => {
		const h = harness({ refillLimit: 20_000 });
		for (let i = 0; i < 10_000; i += 1) h.store(`m${i}`, T0 + 1_000 + i);
		await h.scheduler.start();
		expect(h.scheduler.stats().waiting).toBe(10_000);
		expect(h.clock.pendingTimers).toBe(1);
		await h.clock.advanceTo(T0 + 6_000);
		expect(h.clock.pendingTimers).toBe(1);
		expect(h.releases).toHaveLength(5_001);
		expect(h.releases.every((r) => r.at === T0 + 1_000 + Number(r.id.slice(1)))).toBe(true);
		await h.scheduler.stop();
	});

	it('reads a cut-short window again before it runs dry, releasing everything once', async () => {
		const h = harness({ refillLimit: 100, batchMax: 10, concurrency: 1, minRefillGapMs: 0 });
		for (let i = 0; i < 350; i += 1) h.store(`m${String(i).padStart(3, '0')}`, T0 + 1_000 + i * 10);
		await h.scheduler.start();
		expect(h.scheduler.stats().waiting).toBe(100);
		await h.clock.advanceTo(T0 + 10_000);
		const ids = h.releasedIds();
		expect(ids).toHaveLength(350);
		expect(new Set(ids).size).toBe(350);
		// Every one went out exactly at its unlock time: the next page was in memory in time.
		expect(h.releases.every((r) => r.at === T0 + 1_000 + Number(r.id.slice(1)) * 10)).toBe(true);
		expect(h.reads.length).toBeGreaterThan(3);
		await h.scheduler.stop();
	});

	it('reads a cut-short window on from its last page, past released envelopes whose copies remain', async () => {
		// The store keeps a released envelope's locked copy until it is removed, off the release path:
		// reading from the start again would return the same page of released ones, over and over.
		const h = harness(
			{ refillLimit: 10, batchMax: 5, concurrency: 1, minRefillGapMs: 0 },
			{ keepCopies: true },
		);
		for (let i = 0; i < 35; i += 1) h.store(`m${String(i).padStart(2, '0')}`, T0 + 1_000 + i * 10);
		await h.scheduler.start();
		await h.clock.advanceTo(T0 + 2_000);
		const ids = h.releasedIds();
		expect(ids).toHaveLength(35);
		expect(new Set(ids).size).toBe(35);
		expect(h.releases.every((r) => r.at === T0 + 1_000 + Number(r.id.slice(1)) * 10)).toBe(true);
		// Each top-up went on after the previous page's last envelope.
		const topUps = h.reads.filter((r) => r.after !== null);
		expect(topUps.map((r) => r.after?.id)).toEqual(['m09', 'm19', 'm29']);
		await h.scheduler.stop();
	});

	it('drains a backlog larger than one page after downtime', async () => {
		const h = harness({ refillLimit: 100, batchMax: 25, concurrency: 2, minRefillGapMs: 0 });
		for (let i = 0; i < 1_000; i += 1) h.store(`m${String(i).padStart(4, '0')}`, T0 - 60_000 + i);
		await h.scheduler.start();
		await h.clock.advance(0);
		for (let i = 0; i < 20 && h.releases.length < 1_000; i += 1) await h.clock.advance(1);
		expect(h.releases).toHaveLength(1_000);
		expect(new Set(h.releasedIds()).size).toBe(1_000);
		expect(h.releases.at(-1)?.at).toBeLessThanOrEqual(T0 + 20);
		await h.scheduler.stop();
	});

	it('does not fire a cancelled envelope (cancelled long before)', async () => {
		const h = harness();
		h.store('kept', T0 + 2_000);
		h.store('cancelled', T0 + 2_000);
		await h.scheduler.start();
		await h.clock.advance(500);
		h.scheduler.forget('cancelled');
		h.locked.delete('cancelled');
		await h.clock.advanceTo(T0 + 2_000);
		expect(h.batches.flat()).toEqual(['kept']);
		await h.scheduler.stop();
	});

	it('does not fire an envelope cancelled at its due instant before the timer ran', async () => {
		const h = harness();
		h.store('x', T0 + 2_000);
		await h.scheduler.start();
		h.clock.set(T0 + 2_000);
		h.scheduler.forget('x');
		await h.clock.advanceTo(T0 + 2_000);
		expect(h.batches).toEqual([]);
		await h.scheduler.stop();
	});

	it('leaves a cancel that arrives while the release runs to the store to decide', async () => {
		const h = harness();
		h.store('x', T0 + 2_000);
		await h.scheduler.start();
		h.control.gate = deferred();
		await h.clock.advanceTo(T0 + 2_000);
		expect(h.scheduler.stats().releasing).toBe(1);
		h.scheduler.forget('x');
		h.control.gate.resolve();
		await h.clock.advance(0);
		expect(h.releasedIds()).toEqual(['x']);
		expect(h.scheduler.stats()).toMatchObject({ waiting: 0, releasing: 0 });
		await h.scheduler.stop();
	});

	it('does not bring back an envelope released while a refill was reading', async () => {
		// A refill that does not wait for a quiet moment, so it reads while the release runs.
		const h = harness({ refillEveryMs: 1_000 });
		h.store('x', T0 + 1_000);
		await h.scheduler.start();
		h.control.readGate = deferred();
		await h.clock.advanceTo(T0 + 1_000);
		// The refill at T0 + 1000 found 'x' still locked; its release finished before the read answered.
		expect(h.reads).toHaveLength(2);
		expect(h.releasedIds()).toEqual(['x']);
		h.control.readGate.resolve();
		await h.clock.advanceTo(T0 + 1_500);
		expect(h.batches).toEqual([['x']]);
		await h.scheduler.stop();
	});

	it('retries a failed release, and a failed refill, after the retry delay', async () => {
		const errors: string[] = [];
		const h = harness({ retryDelayMs: 1_000, onError: (_e, during) => errors.push(during) });
		h.control.failRead = 1;
		await h.scheduler.start();
		expect(errors).toEqual(['refill']);
		h.store('x', T0 + 500);
		h.control.fail = 1;
		await h.clock.advanceTo(T0 + 1_000);
		expect(h.releases).toEqual([]);
		await h.clock.advanceTo(T0 + 1_499);
		expect(errors).toEqual(['refill', 'release']);
		expect(h.releases).toEqual([]);
		await h.clock.advanceTo(T0 + 2_000);
		expect(h.releases).toEqual([{ id: 'x', at: T0 + 2_000, batch: 1 }]);
		await h.scheduler.stop();
	});

	it('tries an envelope again when the release hands it back', async () => {
		const calls: [string[], number][] = [];
		const h = harness({
			async release(ids) {
				calls.push([ids, h.clock.now()]);
				// The first time, another hub's claim is still pending: look again at T0 + 5000.
				return calls.length === 1 ? [{ id: 'x', at: T0 + 5_000 }] : undefined;
			},
		});
		h.store('x', T0 + 1_000);
		h.store('y', T0 + 1_000);
		await h.scheduler.start();
		await h.clock.advanceTo(T0 + 4_999);
		expect(calls).toEqual([[['x', 'y'], T0 + 1_000]]);
		await h.clock.advanceTo(T0 + 10_000);
		expect(calls).toEqual([
			[['x', 'y'], T0 + 1_000],
			[['x'], T0 + 5_000],
		]);
		await h.scheduler.stop();
	});

	it('drops a retry for an envelope forgotten while its batch ran (settled elsewhere meanwhile)', async () => {
		const calls: string[][] = [];
		const gate = deferred();
		const h = harness({
			async release(ids) {
				calls.push(ids);
				// The first batch stands by for 'x' (another hub's share) while it writes 'y'.
				if (calls.length > 1) return undefined;
				await gate.promise;
				return [{ id: 'x', at: T0 + 1_500 }];
			},
		});
		h.store('x', T0 + 1_000);
		h.store('y', T0 + 1_000);
		await h.scheduler.start();
		await h.clock.advanceTo(T0 + 1_000);
		expect(h.scheduler.stats().releasing).toBe(2);
		// The owner's word that it released 'x' arrives while the batch is still writing 'y'.
		h.scheduler.forget('x');
		gate.resolve();
		await h.clock.advanceTo(T0 + 5_000);
		expect(calls).toEqual([['x', 'y']]);
		expect(h.scheduler.stats()).toMatchObject({ waiting: 0, releasing: 0 });

		// Forgotten in one batch only: the same id, stored again later, is released as usual.
		h.store('x', T0 + 6_000);
		h.scheduler.notify({ id: 'x', unlockAt: T0 + 6_000 });
		await h.clock.advanceTo(T0 + 6_000);
		expect(calls).toEqual([['x', 'y'], ['x']]);
		await h.scheduler.stop();
	});

	it('stops: no timer left, nothing fires, and it waits for the release under way', async () => {
		const h = harness();
		h.store('under-way', T0 + 1_000);
		h.store('later', T0 + 5_000);
		await h.scheduler.start();
		h.control.gate = deferred();
		await h.clock.advanceTo(T0 + 1_000);
		let stopped = false;
		const stopping = h.scheduler.stop().then(() => (stopped = true));
		await h.clock.advance(0);
		expect(stopped).toBe(false);
		h.control.gate.resolve();
		await stopping;
		expect(h.clock.pendingTimers).toBe(0);
		h.scheduler.notify(h.store('after-stop', T0 + 1_500));
		await h.clock.advanceTo(T0 + 10_000);
		expect(h.releasedIds()).toEqual(['under-way']);
		expect(h.scheduler.stats()).toMatchObject({ running: false, waiting: 0, releasing: 0 });
	});
});
