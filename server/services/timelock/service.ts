import type { Logger } from 'pino';
import {
	LIMITS,
	ProtocolError,
	type CancelResult,
	type Cancelled,
	type StoredEnvelope,
} from '../../../src/lib/protocol';
import type { Notifier } from '../notify';
import type { ReleaseRecord, Store } from '../../store';
import type { LockedRef, Retry } from './scheduler';

export interface TimelockServiceOptions {
	store: Store;
	notify: Notifier;
	now: () => number;
	/** This hub, as written in the decisions it takes. */
	hubId: string;
	logger: Logger;
	/**
	 * A hub that has not said it is alive for this long is taken for dead: the decisions it took and
	 * never applied (it crashed between its claim and its update) are completed by another hub.
	 */
	hubDeadMs?: number;
	/** How long a cancel on this hub may take before a still-locked "cancelled" envelope is finished by the scheduler. */
	claimStaleMs?: number;
	/** Called once per envelope this hub released, with how late it went out. */
	onReleased?: (envelope: StoredEnvelope, latenessMs: number) => void;
	/** Called when another hub had already decided an envelope this hub tried to release. */
	onClaimLost?: (id: string) => void;
}

export interface CancelOutcome {
	result: CancelResult;
	event: Cancelled;
	/** Whether the recipient was told the message was coming, and so is told it will not. */
	announce: boolean;
}

const CLAIM_STALE_MS = 10_000;
const HUB_DEAD_MS = 20_000;

/**
 * Releases, cancels and lists time-locked envelopes.
 *
 * Every decision is one unique-index insert in `releases` (see server/store/releases.ts): the
 * first insert for an envelope id wins, on any hub, so a release and a cancel can never both
 * happen and no envelope is released twice. Only after winning does the hub update the envelope
 * (locked → released or cancelled) and then tell devices: save, then emit.
 */
export class TimelockService {
	readonly #store: Store;
	readonly #notify: Notifier;
	readonly #now: () => number;
	readonly #hubId: string;
	readonly #logger: Logger;
	readonly #claimStaleMs: number;
	readonly #hubDeadMs: number;
	readonly #onReleased: NonNullable<TimelockServiceOptions['onReleased']>;
	readonly #onClaimLost: NonNullable<TimelockServiceOptions['onClaimLost']>;
	/** Locked envelopes the scheduler holds, so a release needs no read (envelopes are immutable until decided). */
	readonly #pending = new Map<string, StoredEnvelope>();

	constructor(options: TimelockServiceOptions) {
		this.#store = options.store;
		this.#notify = options.notify;
		this.#now = options.now;
		this.#hubId = options.hubId;
		this.#logger = options.logger;
		this.#claimStaleMs = options.claimStaleMs ?? CLAIM_STALE_MS;
		this.#hubDeadMs = options.hubDeadMs ?? HUB_DEAD_MS;
		this.#onReleased = options.onReleased ?? (() => {});
		this.#onClaimLost = options.onClaimLost ?? (() => {});
	}

	/** Tells the other hubs this one is alive (its pending decisions are its own to apply). */
	heartbeat(): Promise<void> {
		return this.#store.releases.heartbeat(this.#hubId, this.#now());
	}

	/** The scheduler's source: locked envelopes due by `until`, kept at hand for their release. */
	async dueBefore(until: number, limit: number): Promise<LockedRef[]> {
		const envelopes = await this.#store.envelopes.lockedDueBy(until, limit);
		const refs: LockedRef[] = [];
		for (const envelope of envelopes) {
			if (envelope.unlockAt === null) continue;
			this.#pending.set(envelope.id, envelope);
			refs.push({ id: envelope.id, unlockAt: envelope.unlockAt });
		}
		return refs;
	}

	/** A locked envelope was just stored on this hub. */
	remember(envelope: StoredEnvelope): LockedRef | null {
		if (envelope.state !== 'locked' || envelope.unlockAt === null) return null;
		this.#pending.set(envelope.id, envelope);
		return { id: envelope.id, unlockAt: envelope.unlockAt };
	}

	forget(id: string): void {
		this.#pending.delete(id);
	}

	clear(): void {
		this.#pending.clear();
	}

	/**
	 * Releases what is due among `ids`: claims them in one insert, then marks each released and
	 * pushes it to the devices of both parties. Completes a decision another hub left half done.
	 */
	async release(ids: string[]): Promise<Retry[]> {
		try {
			return await this.#release(ids);
		} catch (error) {
			// Read them afresh next time: some may have been claimed or released before the failure.
			for (const id of ids) this.#pending.delete(id);
			throw error;
		}
	}

	async #release(ids: string[]): Promise<Retry[]> {
		const at = this.#now();
		const envelopes = await this.#load(ids);
		// Never before its unlock time by this hub's clock, and only what is still locked.
		const due = envelopes.filter((e) => e.state === 'locked' && e.unlockAt !== null && e.unlockAt <= at);
		const retries: Retry[] = [];
		for (const e of envelopes) {
			if (e.state !== 'locked') this.#pending.delete(e.id);
			else if (e.unlockAt !== null && e.unlockAt > at) retries.push({ id: e.id, at: e.unlockAt });
		}
		if (due.length === 0) return retries;

		const won = await this.#store.releases.claim(
			due.map((e) => e.id),
			'released',
			at,
			this.#hubId,
		);
		const lost = due.filter((e) => !won.has(e.id));
		const decisions = new Map<string, ReleaseRecord>();
		for (const record of await this.#store.releases.get(lost.map((e) => e.id))) {
			decisions.set(record.id, record);
		}
		const alive = await this.#aliveHubs([...decisions.values()], at);

		const toRelease: StoredEnvelope[] = [];
		for (const envelope of due) {
			const mine = won.has(envelope.id);
			const decision: ReleaseRecord | undefined = mine
				? { id: envelope.id, outcome: 'released', at, hub: this.#hubId }
				: decisions.get(envelope.id);
			if (!mine && decision?.hub !== this.#hubId) this.#onClaimLost(envelope.id);
			// A decision someone else is applying right now is left to them, or devices would hear of it
			// twice: a live hub's (however slow), or a cancel under way here. Ours to finish: our own
			// release that failed half way, or a decision whose hub has died since.
			const finishable = decision !== undefined && (mine || this.#mayFinish(decision, at, alive));
			if (!finishable) {
				// Look again, from the database, once only a crash could explain it still being locked.
				this.#pending.delete(envelope.id);
				retries.push({ id: envelope.id, at: (decision?.at ?? at) + this.#claimStaleMs });
				continue;
			}
			if (decision.outcome === 'released') {
				toRelease.push(envelope);
			} else {
				await this.#applyCancel(envelope);
				this.#pending.delete(envelope.id);
			}
		}
		await this.#applyReleases(toRelease);
		for (const envelope of toRelease) this.#pending.delete(envelope.id);
		return retries;
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
		const won = await this.#store.releases.claim([id], 'cancelled', at, this.#hubId);
		if (!won.has(id)) {
			const [decision] = await this.#store.releases.get([id]);
			if (decision?.outcome === 'released') {
				throw new ProtocolError('ALREADY_RELEASED', 'This message has already been delivered.');
			}
			// Cancelled moments ago by another device: that cancel is being applied.
			if (
				decision?.outcome !== 'cancelled' ||
				!this.#mayFinish(decision, at, await this.#aliveHubs([decision], at))
			) {
				throw new ProtocolError('NOT_CANCELLABLE', 'This message was already cancelled.');
			}
			// Cancelled, yet still locked, and nobody is finishing it: that cancel stopped half way. Finish it.
		}
		await this.#store.envelopes.markCancelled(id);
		this.#pending.delete(id);
		const event: Cancelled = { id, from: envelope.from, to: envelope.to };
		return { result: { id, outcome: 'cancelled' }, event, announce: envelope.announce };
	}

	/** The sender's own still-locked envelopes, soonest unlock first. */
	list(username: string): Promise<StoredEnvelope[]> {
		return this.#store.envelopes.lockedFrom(username, LIMITS.syncPageMax);
	}

	/** Whether this hub may apply a decision it did not just take. */
	#mayFinish(decision: ReleaseRecord, at: number, alive: Set<string>): boolean {
		if (decision.hub !== this.#hubId) return !alive.has(decision.hub);
		// Only this hub's scheduler releases here, one attempt at a time; a cancel here gets its own time.
		return decision.outcome === 'released' || decision.at <= at - this.#claimStaleMs;
	}

	async #aliveHubs(decisions: ReleaseRecord[], at: number): Promise<Set<string>> {
		const others = [...new Set(decisions.map((d) => d.hub).filter((hub) => hub !== this.#hubId))];
		return this.#store.releases.aliveSince(others, at - this.#hubDeadMs);
	}

	/** The envelopes, from what the scheduler loaded when it can, else from the database in one query. */
	async #load(ids: string[]): Promise<StoredEnvelope[]> {
		const missing = ids.filter((id) => !this.#pending.has(id));
		const read = new Map((await this.#store.envelopes.getMany(missing)).map((e) => [e.id, e]));
		const envelopes: StoredEnvelope[] = [];
		for (const id of ids) {
			const envelope = this.#pending.get(id) ?? read.get(id);
			if (envelope) envelopes.push(envelope);
		}
		return envelopes;
	}

	/** Releases a batch whose claims are ours to apply in one update, then tells devices: save, then emit. */
	async #applyReleases(batch: StoredEnvelope[]): Promise<void> {
		if (batch.length === 0) return;
		// Released when it becomes visible, whenever it was decided: the sync order places it after every cursor.
		const releasedAt = this.#now();
		const ids = batch.map((e) => e.id);
		let stored: StoredEnvelope[];
		try {
			stored = await this.#store.envelopes.releaseMany(ids, releasedAt);
		} catch (error) {
			// The update is not atomic on every database: tell devices of what it saved, then fail the batch (retried).
			const saved = await this.#store.envelopes.getMany(ids);
			this.#emitReleased(
				batch,
				saved.filter((e) => e.state === 'released' && e.releasedAt === releasedAt),
				releasedAt,
			);
			throw error;
		}
		this.#emitReleased(batch, stored, releasedAt);
	}

	#emitReleased(batch: StoredEnvelope[], stored: StoredEnvelope[], releasedAt: number): void {
		const released = new Map(stored.map((e) => [e.id, e]));
		for (const envelope of batch) {
			const stored = released.get(envelope.id);
			if (!stored) continue;
			this.#notify.messageNew(stored, { recipient: true, sender: true });
			this.#onReleased(stored, releasedAt - (envelope.unlockAt ?? releasedAt));
		}
	}

	async #applyCancel(envelope: StoredEnvelope): Promise<void> {
		if (!(await this.#store.envelopes.markCancelled(envelope.id))) return;
		this.#logger.info({ id: envelope.id }, 'completed a cancel left half done');
		this.#notify.cancelled(
			{ id: envelope.id, from: envelope.from, to: envelope.to },
			{ sender: true, recipient: envelope.announce },
		);
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
