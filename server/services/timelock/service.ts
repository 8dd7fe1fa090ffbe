import type { Logger } from 'pino';
import {
	LIMITS,
	ProtocolError,
	type CancelResult,
	type Cancelled,
	type StoredEnvelope,
} from '../../../src/lib/protocol';
import type { Notifier } from '../notify';
import type { Store } from '../../store';
import { DUE_SLOT_MS, dueSlotOf } from '../../store/due-slot';
import type { HubPeers } from './peers';
import type { LockedRef, Retry } from './scheduler';

/**
 * A lock due on another live hub is looked at again this long after: by then that hub has
 * released it and said so (the scheduler forgets it), or has been counted out (see PEER_TIMEOUT_MS).
 */
const STANDBY_MS = 250;
/**
 * Past this, a lock still not released by its owner is released by whichever hub looks at it,
 * unless the owner is visibly at work: it said it settled something within this time, or its
 * last heartbeat said it has releases under way. An idle owner may be stuck, or its word that it
 * released may have been lost. A busy one is only slow (a burst on a loaded machine): taking its
 * share then doubled the inserts of a burst (each lost claim is a refused insert) and slowed
 * both hubs further. The unique insert keeps the outcome single either way.
 */
const TAKEOVER_AFTER_MS = 2_000;
/**
 * Past this, a lock is taken over even from a busy owner: the owner may not know it (its word of
 * it lost after the owner had read that due slot).
 */
const TAKEOVER_BUSY_OWNER_AFTER_MS = 10_000;
/** Locked copies removed per delete command (one statement each, by id). */
const REMOVE_SLICE = 1_000;

export interface TimelockServiceOptions {
	store: Store;
	notify: Notifier;
	now: () => number;
	logger: Logger;
	/** Which hub releases which lock; this hub releases only its share until its peers are late. */
	peers: HubPeers;
	/** Called with the ids this hub has settled (released, or found decided), for the other hubs. */
	onSettled?: (ids: string[], released: string[]) => void;
	/** Called once per envelope this hub released, with how late it went out. */
	onReleased?: (envelope: StoredEnvelope, latenessMs: number) => void;
	/** Called when an envelope this hub tried to release had already been decided (another hub, or a cancel). */
	onClaimLost?: (id: string) => void;
	/** Called with a locked envelope this hub held that another hub says it released. */
	onReleasedElsewhere?: (envelope: StoredEnvelope) => void;
}

export interface CancelOutcome {
	result: CancelResult;
	event: Cancelled;
	/** Whether the recipient was told the message was coming, and so is told it will not. */
	announce: boolean;
}

/**
 * Releases, cancels and lists time-locked envelopes.
 *
 * A locked envelope waits in its own collection. Its one decision, release or cancel, is the
 * insert of its settled copy (released, or cancelled) into the envelopes collection under the
 * envelope's unique id: the first insert wins on any hub and is applied by that same write, so a
 * release and a cancel can never both happen, no envelope is released twice, and a crash can
 * leave no decision half applied. Devices are told only after the insert: save, then emit. The
 * locked copy is removed right after; until it is (or if a crash stops that), the settled copy
 * is what counts everywhere, and a later release attempt removes it.
 */
export class TimelockService {
	readonly #store: Store;
	readonly #notify: Notifier;
	readonly #now: () => number;
	readonly #logger: Logger;
	readonly #peers: HubPeers;
	readonly #onSettled: NonNullable<TimelockServiceOptions['onSettled']>;
	readonly #onReleased: NonNullable<TimelockServiceOptions['onReleased']>;
	readonly #onClaimLost: NonNullable<TimelockServiceOptions['onClaimLost']>;
	readonly #onReleasedElsewhere: NonNullable<TimelockServiceOptions['onReleasedElsewhere']>;
	/** Locked envelopes the scheduler holds, so a release needs no read (they are immutable until decided). */
	readonly #pending = new Map<string, StoredEnvelope>();
	/** Due locks of other hubs' share that this hub stands by for: id → when it first came due here. */
	readonly #standby = new Map<string, number>();
	/** Decided envelopes whose locked copies are still to be removed, and the removal under way. */
	readonly #toRemove = new Set<string>();
	#removing: Promise<void> | null = null;
	/** Every lock due by this time is known to the scheduler; null before the first read. */
	#horizon: number | null = null;
	#fullReadWanted = false;
	/** The next slot read starts at this time's slot, slots read already included (see `wantSlotsAgain`). */
	#slotsAgainFrom: number | null = null;
	/** Release calls under way, and the removals waiting for them to end (see #removeCopies). */
	#releasesRunning = 0;
	readonly #onReleasesIdle: (() => void)[] = [];
	/** When this hub's last release insert for an id failed without saying what it wrote: id → releasedAt tried. */
	readonly #unsure = new Map<string, number>();

	constructor(options: TimelockServiceOptions) {
		this.#store = options.store;
		this.#notify = options.notify;
		this.#now = options.now;
		this.#logger = options.logger;
		this.#peers = options.peers;
		this.#onSettled = options.onSettled ?? (() => {});
		this.#onReleased = options.onReleased ?? (() => {});
		this.#onClaimLost = options.onClaimLost ?? (() => {});
		this.#onReleasedElsewhere = options.onReleasedElsewhere ?? (() => {});
	}

	/**
	 * The scheduler's source: locked envelopes due by `until` (after `after`), kept at hand for
	 * their release. The first read, a read after notices of locks may have been lost
	 * (wantFullRead), and the pages of a read cut short are ranges over every lock (what fell due
	 * while no hub ran, or what this hub was never told of, included). Every other read takes only
	 * the due slots from the horizon onward (server/store/due-slot.ts): its cost is what falls due
	 * next, not every lock waiting. It may hand back locks due after `until` (the rest of the last
	 * slot): held early.
	 */
	async dueBefore(until: number, limit: number, after: LockedRef | null): Promise<LockedRef[]> {
		const full = after !== null || this.#horizon === null || this.#fullReadWanted;
		const before = this.#horizon;
		let envelopes: StoredEnvelope[];
		if (full) {
			this.#fullReadWanted = false;
			try {
				envelopes = await this.#store.envelopes.lockedDueBy(until, limit, after);
			} catch (error) {
				this.#fullReadWanted = true;
				throw error;
			}
			// A page cut short knows everything before its last lock's time; a whole range, up to `until`.
			const last = envelopes.length >= limit ? envelopes[envelopes.length - 1] : null;
			const known = last ? (last.unlockAt ?? 0) - 1 : until;
			this.#horizon = Math.max(before ?? Number.NEGATIVE_INFINITY, known);
		} else {
			const again = this.#slotsAgainFrom;
			// Read already (a slot reaches past the window): nothing to ask the database.
			if (again === null && before !== null && until <= before) return [];
			const from = dueSlotOf(again ?? (before ?? until) + 1);
			const to = dueSlotOf(Math.max(until, before ?? until));
			const slots = Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
			// Moved before the read, so that a lock stored while it runs, in one of these slots, is
			// taken by `notify` (see horizon()) if the read does not see it. Moved back if it fails.
			this.#horizon = Math.max(before ?? Number.NEGATIVE_INFINITY, (to + 1) * DUE_SLOT_MS - 1);
			this.#slotsAgainFrom = null;
			try {
				envelopes = (await this.#store.envelopes.lockedInSlots(slots)).filter(
					(e) => again !== null || (e.unlockAt ?? 0) > (before ?? Number.NEGATIVE_INFINITY),
				);
			} catch (error) {
				this.#horizon = before;
				this.#slotsAgainFrom = again;
				throw error;
			}
		}
		// Every hub holds every lock of the window, its own share and the others' (one it may take
		// over), so that no release has to read what it releases.
		for (const envelope of envelopes) this.remember(envelope);
		return envelopes.map((e) => ({ id: e.id, unlockAt: e.unlockAt ?? 0 }));
	}

	/**
	 * Every lock due at or before this time has been handed to the scheduler (or is being read):
	 * one stored later, due by then, is to be scheduled when it is told of, even beyond the window.
	 */
	horizon(): number {
		return this.#horizon ?? Number.NEGATIVE_INFINITY;
	}

	/**
	 * Notices of locks may have been lost (this hub's Redis link dropped, or another hub says it
	 * sent more than came): the next read is a range over every lock.
	 */
	wantFullRead(): void {
		this.#fullReadWanted = true;
	}

	/**
	 * The next read takes again every due slot from `since` to the horizon, by equality: a lock
	 * stored into a slot already read, whose notice was lost, is found there (overdue ones included,
	 * back to `since`) at the cost of what those slots hold, not of every lock waiting.
	 */
	wantSlotsAgain(since: number): void {
		this.#slotsAgainFrom = Math.min(this.#slotsAgainFrom ?? since, since);
	}

	/** Keeps a locked envelope at hand for its release (one the scheduler holds: stored here, or by another hub). */
	remember(envelope: StoredEnvelope): void {
		if (envelope.state === 'locked') this.#pending.set(envelope.id, envelope);
	}

	/** Another hub settled these (its word, through the adapter): nothing is kept for them here. */
	settledElsewhere(ids: string[], released: ReadonlySet<string> = new Set()): void {
		for (const id of ids) {
			const envelope = this.#pending.get(id);
			if (envelope && released.has(id)) this.#onReleasedElsewhere(envelope);
			this.#pending.delete(id);
			this.#standby.delete(id);
		}
	}

	clear(): void {
		this.#pending.clear();
		this.#standby.clear();
	}

	/**
	 * Releases what is due among `ids` in one insert, then pushes each released envelope to the
	 * devices of both parties. Hands back those not due yet by this hub's clock.
	 */
	async release(ids: string[]): Promise<Retry[]> {
		this.#releasesRunning += 1;
		try {
			return await this.#release(ids);
		} catch (error) {
			// Read them afresh next time: some may have been decided elsewhere meanwhile.
			for (const id of ids) this.#pending.delete(id);
			throw error;
		} finally {
			this.#releasesRunning -= 1;
			if (this.#releasesRunning === 0) for (const wake of this.#onReleasesIdle.splice(0)) wake();
		}
	}

	/** Resolves once no release is under way: removals give the database to the releases first. */
	#releasesIdle(): Promise<void> {
		if (this.#releasesRunning === 0) return Promise.resolve();
		return new Promise((resolve) => this.#onReleasesIdle.push(resolve));
	}

	async #release(ids: string[]): Promise<Retry[]> {
		const at = this.#now();
		const alive = this.#peers.alive();
		const retries: Retry[] = [];
		const mine: string[] = [];
		for (const id of ids) {
			const since = this.#standby.get(id) ?? at;
			// Another live hub's share: it releases it and says so, unless it is late.
			if (!this.#peers.owns(id, alive) && !this.#ownerIsLate(id, alive, since, at)) {
				this.#standby.set(id, since);
				retries.push({ id, at: at + STANDBY_MS });
			} else {
				this.#standby.delete(id);
				mine.push(id);
			}
		}
		const due: StoredEnvelope[] = [];
		for (const e of await this.#load(mine)) {
			// Never before its unlock time by this hub's clock.
			if (e.unlockAt !== null && e.unlockAt > at) retries.push({ id: e.id, at: e.unlockAt });
			else due.push(e);
		}
		if (due.length === 0) return retries;

		// Released when it becomes visible: the sync order places it after every cursor.
		const releasedAt = this.#now();
		let outcome;
		try {
			outcome = await this.#store.envelopes.release(due, releasedAt);
		} catch (error) {
			// Some inserts may have been written: if so, their retry is refused as decided and says so.
			for (const e of due) this.#unsure.set(e.id, releasedAt);
			throw error;
		}
		for (const envelope of outcome.released) this.#emitReleased(envelope);
		const decided = await this.#ownUnsure(outcome.decided);
		for (const id of outcome.decided) if (!decided.has(id)) this.#onClaimLost(id);
		for (const e of due) {
			this.#pending.delete(e.id);
			this.#unsure.delete(e.id);
		}
		this.#onSettled(
			due.map((e) => e.id),
			[...outcome.released.map((e) => e.id), ...decided],
		);
		this.#removeCopies(due);
		return retries;
	}

	/** Whether a lock of another live hub's share, due here since `since`, is to be taken over at `at`. */
	#ownerIsLate(id: string, alive: string[], since: number, at: number): boolean {
		const waited = at - since;
		if (waited < TAKEOVER_AFTER_MS) return false;
		if (waited >= TAKEOVER_BUSY_OWNER_AFTER_MS) return true;
		const owner = this.#peers.ownerOf(id, alive);
		if (this.#peers.releasing(owner)) return false;
		const progress = this.#peers.lastProgress(owner);
		return progress === null || at - progress >= TAKEOVER_AFTER_MS;
	}

	/**
	 * Among ids refused as decided, those this hub released itself in an insert that failed half
	 * way: their devices were never told, so they are told now. Returns them.
	 */
	async #ownUnsure(decided: string[]): Promise<Set<string>> {
		const unsure = decided.filter((id) => this.#unsure.has(id));
		const own = new Set<string>();
		if (unsure.length === 0) return own;
		for (const envelope of await this.#store.envelopes.settledMany(unsure)) {
			if (envelope.state === 'released' && envelope.releasedAt === this.#unsure.get(envelope.id)) {
				this.#logger.info({ id: envelope.id }, 'telling devices of a release whose insert failed half way');
				this.#emitReleased(envelope);
				own.add(envelope.id);
			}
		}
		return own;
	}

	/** Cancels a locked envelope for its sender, unless its release has been decided or has come due. */
	async cancel(username: string, id: string): Promise<CancelOutcome> {
		const envelope = await this.#store.envelopes.get(id);
		if (!envelope || !visibleTo(envelope, username)) {
			throw new ProtocolError('NOT_FOUND', 'No such message.');
		}
		if (envelope.from !== username) {
			throw new ProtocolError('FORBIDDEN', 'Only the sender can cancel a time-locked message.');
		}
		if (envelope.unlockAt === null) {
			throw new ProtocolError('NOT_CANCELLABLE', 'This message was not time-locked.');
		}
		if (envelope.state === 'released') {
			throw new ProtocolError('ALREADY_RELEASED', 'This message has already been delivered.');
		}
		if (envelope.state === 'cancelled') {
			throw new ProtocolError('NOT_CANCELLABLE', 'This message was already cancelled.');
		}
		const at = this.#now();
		if (envelope.unlockAt <= at) {
			throw new ProtocolError(
				'ALREADY_RELEASED',
				'The unlock time has come: the message is being delivered.',
			);
		}
		if ((await this.#store.envelopes.cancel(envelope, at)) === 'decided-before') {
			const settled = await this.#store.envelopes.get(id);
			if (settled?.state === 'released') {
				throw new ProtocolError('ALREADY_RELEASED', 'This message has already been delivered.');
			}
			throw new ProtocolError('NOT_CANCELLABLE', 'This message was already cancelled.');
		}
		this.#pending.delete(id);
		this.#onSettled([id], []);
		this.#removeCopies([envelope]);
		const event: Cancelled = { id, from: envelope.from, to: envelope.to };
		return { result: { id, outcome: 'cancelled' }, event, announce: envelope.announce };
	}

	/** The sender's own still-locked envelopes, soonest unlock first. */
	list(username: string): Promise<StoredEnvelope[]> {
		return this.#store.envelopes.lockedFrom(username, LIMITS.syncPageMax);
	}

	/**
	 * Queues the removal of decided envelopes' locked copies, done one delete at a time outside the
	 * releases, so that the next batch does not wait for it, and each delete only when no release
	 * insert is running: in a burst on the embedded engine the deletes (a statement per copy) had
	 * taken the database from the inserts (arrival p99 684 → 339 ms after a hub was killed, see
	 * docs/OPERATIONS.md). While a backlog drains they wait until it is done. A failure is
	 * only logged: a copy left behind (here, or by a crash) is found again by a refill, refused as
	 * decided by the release attempt, and queued then; until it is removed, the settled copy counts.
	 */
	#removeCopies(envelopes: StoredEnvelope[]): void {
		for (const e of envelopes) this.#toRemove.add(e.id);
		this.#removing ??= this.#drainRemovals().finally(() => (this.#removing = null));
	}

	async #drainRemovals(): Promise<void> {
		while (this.#toRemove.size > 0) {
			await this.#releasesIdle();
			const slice = [...this.#toRemove].slice(0, REMOVE_SLICE);
			try {
				await this.#store.envelopes.removeLocked(slice);
			} catch (error) {
				this.#logger.warn({ err: error, count: slice.length }, 'removing decided locked copies failed');
			}
			for (const id of slice) this.#toRemove.delete(id);
		}
	}

	/** Waits for the removals under way (a stopping hub finishes them before its database closes). */
	async settle(): Promise<void> {
		while (this.#removing) await this.#removing;
	}

	/** The locked copies, from what the scheduler loaded when it can, else from the database in one query. */
	async #load(ids: string[]): Promise<StoredEnvelope[]> {
		const missing = ids.filter((id) => !this.#pending.has(id));
		const read = new Map((await this.#store.envelopes.lockedMany(missing)).map((e) => [e.id, e]));
		const envelopes: StoredEnvelope[] = [];
		for (const id of ids) {
			const envelope = this.#pending.get(id) ?? read.get(id);
			if (envelope) envelopes.push(envelope);
		}
		return envelopes;
	}

	#emitReleased(envelope: StoredEnvelope): void {
		this.#notify.messageNew(envelope, { recipient: true, sender: true });
		// Late by the moment devices are told, the insert included (releasedAt is stamped before it).
		this.#onReleased(envelope, this.#now() - (envelope.unlockAt ?? 0));
	}
}

/**
 * Whether `username` may learn that this envelope exists: its sender always; its recipient once
 * it is delivered, or before that only if the sender announced it. Anyone else: never.
 */
function visibleTo(envelope: StoredEnvelope, username: string): boolean {
	if (envelope.from === username) return true;
	if (envelope.to !== username) return false;
	return envelope.state === 'live' || envelope.state === 'released' || envelope.announce;
}
