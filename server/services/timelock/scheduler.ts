import { DueHeap } from './due-heap';

/** A locked envelope as the store's index on `{state, unlockAt}` returns it. */
export interface LockedRef {
	id: string;
	unlockAt: number;
}

/**
 * Where the scheduler reads what falls due: locked envelopes with `unlockAt <= until`, in
 * (unlockAt, id) order, after `after` when it is given (the last of a page cut short).
 */
export interface DueSource {
	dueBefore(until: number, limit: number, after: LockedRef | null): Promise<LockedRef[]>;
	/**
	 * When the source reads more than asked (whole due slots), the time up to which it has handed
	 * over every lock: `notify` then takes a lock due by it even beyond the window, since no later
	 * read will bring it.
	 */
	horizon?(): number;
}

/** Try this envelope again at `at` (its decision is not final yet, e.g. another hub's claim is pending). */
export interface Retry {
	id: string;
	at: number;
}

/**
 * Releases a batch of due envelopes. It must be idempotent: an id may come again after a refill
 * raced with a release, and another hub may have released it first. It may hand back ids to
 * try again later.
 */
export type ReleaseBatch = (ids: string[]) => Promise<Retry[] | void>;

export interface SchedulerOptions {
	source: DueSource;
	release: ReleaseBatch;
	/** The hub's clock (ms since the epoch): what due times are compared with. Timers are the runtime's. */
	now?: () => number;
	/** How far ahead a refill looks. */
	windowMs?: number;
	/** How often the window is refilled; shorter than the window so coverage never lapses. */
	refillEveryMs?: number;
	/** Most envelopes one refill loads; a full page means the window was cut short. */
	refillLimit?: number;
	/** Most ids handed to one release call. */
	batchMax?: number;
	/** Most release calls running at once. */
	concurrency?: number;
	/** Delay before a failed release or refill is tried again. */
	retryDelayMs?: number;
	/** Least time between two reads of a cut-short window, so a large backlog is not read in a loop. */
	minRefillGapMs?: number;
	onError?: (error: unknown, during: 'refill' | 'release') => void;
}

export interface SchedulerStats {
	running: boolean;
	/** Envelopes waiting in memory for their due time. */
	waiting: number;
	/** Envelopes being released right now. */
	releasing: number;
	/** Every locked envelope due up to this time is known to the scheduler. */
	coveredUntil: number;
	lastRefillAt: number | null;
	/** The earliest due time waiting in memory, or null. */
	nextDueAt: number | null;
}

const DEFAULTS = {
	// A minute ahead: what is stored through another hub is in memory long before it falls due,
	// even if that hub's broadcast was lost, at the cost of one range read every refill.
	windowMs: 60_000,
	// Three refills per window, so one failed refill still leaves two before anything falls due.
	refillEveryMs: 20_000,
	// Ids and due times only (about 100 bytes each in memory); more waiting is read in pages.
	refillLimit: 20_000,
	// One insertMany per batch: large enough that a burst costs few round trips, small enough that
	// the first recipients of a burst are told within milliseconds.
	batchMax: 250,
	// Two inserts in flight: one batch is written while the next is prepared and its devices told;
	// more would only queue inside the database.
	concurrency: 2,
	// A failed release is usually a database hiccup: try again soon, not in a tight loop.
	retryDelayMs: 1_000,
	// A backlog of many pages (after downtime) is read at five pages a second at most.
	minRefillGapMs: 200,
};

/**
 * Fires each time-locked envelope at its unlock time, by this hub's clock.
 *
 * Only the soon-due envelopes (the next `windowMs`) sit in memory, in a min-heap, loaded from
 * the store by periodic refills (see TimelockService.dueBefore) and told of new ones by `notify`.
 * One timer is armed for the earliest of the next due time and the next refill, whatever the
 * number of envelopes. Due envelopes go out in batches with bounded concurrency, so batches
 * grow under load instead of queueing one call per message. Anything already past due when it
 * is loaded (after a restart, or after downtime) fires at once. The scheduler never decides who
 * releases: `release` claims each envelope in the store, so several hubs may run one each.
 */
export class TimelockScheduler {
	readonly #source: DueSource;
	readonly #release: ReleaseBatch;
	readonly #now: () => number;
	readonly #options: typeof DEFAULTS;
	readonly #onError: NonNullable<SchedulerOptions['onError']>;

	readonly #heap = new DueHeap();
	/** id -> due time of every live heap entry; an id absent from it is a forgotten heap entry. */
	readonly #waiting = new Map<string, number>();
	readonly #releasing = new Set<string>();
	/**
	 * Ids forgotten while a batch held them: a retry that batch hands back for one is dropped. (A
	 * hub standing by for another's release gets it back as a retry; when the owner's "settled"
	 * came during the batch, the retry had kept it here, and the hub later took it over with a read
	 * of what was long released.)
	 */
	readonly #forgottenWhileReleasing = new Set<string>();
	readonly #batches = new Set<Promise<void>>();
	#activeBatches = 0;

	#running = false;
	#cancelTimer: (() => void) | null = null;
	#coveredUntil = Number.NEGATIVE_INFINITY;
	#truncated = false;
	/** The last envelope of a page cut short: the next read continues after it. */
	#cursor: LockedRef | null = null;
	#nextRefillAt = Number.POSITIVE_INFINITY;
	#lastRefillAt: number | null = null;
	#lastRefillAttemptAt = Number.NEGATIVE_INFINITY;
	#refill: Promise<void> | null = null;
	#refillAgain = false;
	/** Ids released while a refill was reading: its (older) answer must not bring them back. */
	#releasedDuringRefill: Set<string> | null = null;

	constructor(options: SchedulerOptions) {
		this.#source = options.source;
		this.#release = options.release;
		this.#now = options.now ?? Date.now;
		this.#onError = options.onError ?? (() => {});
		this.#options = {
			windowMs: options.windowMs ?? DEFAULTS.windowMs,
			refillEveryMs: options.refillEveryMs ?? DEFAULTS.refillEveryMs,
			refillLimit: options.refillLimit ?? DEFAULTS.refillLimit,
			batchMax: options.batchMax ?? DEFAULTS.batchMax,
			concurrency: options.concurrency ?? DEFAULTS.concurrency,
			retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs,
			minRefillGapMs: options.minRefillGapMs ?? DEFAULTS.minRefillGapMs,
		};
		if (this.#options.refillEveryMs >= this.#options.windowMs) {
			throw new Error('TimelockScheduler: refillEveryMs must be shorter than windowMs');
		}
	}

	/** Loads what is due (including what fell due while no hub ran) and starts firing. */
	async start(): Promise<void> {
		if (this.#running) return;
		this.#running = true;
		await this.refill();
	}

	/** Stops firing and waits for the releases under way; what is left stays locked in the store. */
	async stop(): Promise<void> {
		this.#running = false;
		this.#cancelTimer?.();
		this.#cancelTimer = null;
		this.#heap.clear();
		this.#waiting.clear();
		this.#forgottenWhileReleasing.clear();
		await Promise.allSettled([...this.#batches, this.#refill ?? Promise.resolve()]);
	}

	/**
	 * A locked envelope was just stored: schedules it now if it falls due within the window, before
	 * a refill could find it. Says whether it did (beyond the window, a later refill finds it).
	 */
	notify(ref: LockedRef): boolean {
		if (!this.#running) return false;
		const reach = Math.max(
			this.#now() + this.#options.windowMs,
			this.#source.horizon?.() ?? Number.NEGATIVE_INFINITY,
		);
		if (ref.unlockAt > reach) return false;
		this.#add(ref.id, ref.unlockAt);
		this.#arm();
		return true;
	}

	/** The envelope was cancelled (or released elsewhere): do not fire it. A release under way is not stopped. */
	forget(id: string): void {
		this.#waiting.delete(id);
		if (this.#releasing.has(id)) this.#forgottenWhileReleasing.add(id);
	}

	stats(): SchedulerStats {
		return {
			running: this.#running,
			waiting: this.#waiting.size,
			releasing: this.#releasing.size,
			coveredUntil: this.#coveredUntil,
			lastRefillAt: this.#lastRefillAt,
			nextDueAt: this.#peek()?.at ?? null,
		};
	}

	/** Reads the next window from the store. Concurrent calls share one read, then read once more. */
	refill(): Promise<void> {
		if (this.#refill) {
			this.#refillAgain = true;
			return this.#refill;
		}
		const run = async () => {
			do {
				this.#refillAgain = false;
				await this.#refillOnce();
			} while (this.#refillAgain && this.#running);
		};
		this.#refill = run().finally(() => {
			this.#refill = null;
			this.#arm();
		});
		return this.#refill;
	}

	async #refillOnce(): Promise<void> {
		if (!this.#running) return;
		const startedAt = this.#now();
		this.#lastRefillAttemptAt = startedAt;
		const until = startedAt + this.#options.windowMs;
		const limit = this.#options.refillLimit;
		this.#releasedDuringRefill = new Set();
		try {
			// A window cut short is read on from where its last page stopped, so what this hub has
			// released meanwhile (and whose locked copies may not be removed yet) is not read again.
			const after = this.#truncated ? this.#cursor : null;
			const refs = await this.#source.dueBefore(until, limit, after);
			if (!this.#running) return;
			const released = this.#releasedDuringRefill;
			for (const ref of refs) {
				if (!released.has(ref.id)) this.#add(ref.id, ref.unlockAt);
			}
			this.#truncated = refs.length >= limit;
			this.#cursor = this.#truncated ? refs[refs.length - 1] : null;
			this.#coveredUntil = this.#truncated ? refs[refs.length - 1].unlockAt : until;
			this.#lastRefillAt = startedAt;
			this.#nextRefillAt = startedAt + this.#options.refillEveryMs;
		} catch (error) {
			this.#onError(error, 'refill');
			this.#truncated = false;
			this.#nextRefillAt = this.#now() + this.#options.retryDelayMs;
		} finally {
			this.#releasedDuringRefill = null;
		}
	}

	#add(id: string, at: number): void {
		if (this.#waiting.has(id) || this.#releasing.has(id)) return;
		this.#waiting.set(id, at);
		this.#heap.push({ id, at });
	}

	/** The earliest live heap entry, dropping forgotten ones on the way. */
	#peek() {
		for (;;) {
			const top = this.#heap.peek();
			if (!top || this.#waiting.get(top.id) === top.at) return top;
			this.#heap.pop();
		}
	}

	/**
	 * A cut-short window (a full page) is read again once half of it has gone out, early enough
	 * that the next envelopes are in memory before they fall due.
	 */
	#needsTopUp(): boolean {
		return this.#truncated && this.#waiting.size + this.#releasing.size < this.#options.refillLimit / 2;
	}

	#arm(): void {
		this.#cancelTimer?.();
		this.#cancelTimer = null;
		if (!this.#running) return;
		if (this.#needsTopUp()) {
			this.#nextRefillAt = Math.min(
				this.#nextRefillAt,
				this.#lastRefillAttemptAt + this.#options.minRefillGapMs,
			);
		}
		let next = this.#refill ? Number.POSITIVE_INFINITY : this.#nextRefillAt;
		const top = this.#peek();
		// With every slot taken, the next batch starts when one ends (see #startBatch).
		if (top && this.#activeBatches < this.#options.concurrency) next = Math.min(next, top.at);
		if (!Number.isFinite(next)) return;
		const delay = Math.max(0, next - this.#now());
		const handle = setTimeout(() => this.#tick(), delay);
		this.#cancelTimer = () => clearTimeout(handle);
	}

	#tick(): void {
		this.#cancelTimer = null;
		if (!this.#running) return;
		const now = this.#now();
		if (now >= this.#nextRefillAt && !this.#refill) void this.refill();
		this.#pump();
		this.#arm();
	}

	/** Starts release batches for everything due, within the concurrency bound. */
	#pump(): void {
		const now = this.#now();
		while (this.#running && this.#activeBatches < this.#options.concurrency) {
			const batch: string[] = [];
			for (let top = this.#peek(); top && top.at <= now; top = this.#peek()) {
				this.#heap.pop();
				this.#waiting.delete(top.id);
				batch.push(top.id);
				if (batch.length >= this.#options.batchMax) break;
			}
			if (batch.length === 0) return;
			this.#startBatch(batch);
		}
	}

	#startBatch(ids: string[]): void {
		this.#activeBatches += 1;
		for (const id of ids) this.#releasing.add(id);
		const batch = this.#runBatch(ids).then((retries) => {
			this.#batches.delete(batch);
			this.#activeBatches -= 1;
			for (const id of ids) this.#releasing.delete(id);
			if (this.#running) {
				for (const retry of retries) {
					if (!this.#forgottenWhileReleasing.has(retry.id)) this.#add(retry.id, retry.at);
				}
			}
			for (const id of ids) this.#forgottenWhileReleasing.delete(id);
			this.#pump();
			this.#arm();
		});
		this.#batches.add(batch);
	}

	/** Runs one release call; never rejects: a failed batch is retried whole, as still locked in the store. */
	async #runBatch(ids: string[]): Promise<Retry[]> {
		try {
			const retries = (await this.#release(ids)) ?? [];
			const retried = new Set(retries.map((r) => r.id));
			for (const id of ids) if (!retried.has(id)) this.#releasedDuringRefill?.add(id);
			return retries;
		} catch (error) {
			this.#onError(error, 'release');
			const at = this.#now() + this.#options.retryDelayMs;
			return ids.map((id) => ({ id, at }));
		}
	}
}
