import { createHash } from 'node:crypto';

/** How often a hub tells the others it is alive. */
export const HEARTBEAT_EVERY_MS = 200;
/**
 * A hub not heard from for this long is taken as gone and its share of the due locks is taken
 * over. Several heartbeats long, so one delayed message does not move work between live hubs;
 * short enough that a hub killed a second before a burst is already counted out when it falls due.
 */
export const PEER_TIMEOUT_MS = 750;

/**
 * Which hub releases which locked envelope. Every hub knows every lock due within its window, so
 * any of them could release it; one of them should, so that a burst is not written once per hub.
 * The owner of an id is the live hub that ranks highest for it (rendezvous hashing): each hub
 * computes the same answer from the same set of live hubs, and a hub that goes away hands its
 * share to the others without any hand-over. Ownership only spreads the work: the decision
 * itself is still the unique insert, so two hubs that disagree about who is alive (a Redis blip)
 * both try, and one of them wins.
 */
export class HubPeers {
	readonly #self: string;
	readonly #now: () => number;
	/** Other hubs, by id, with when each was last heard from. */
	readonly #lastSeen = new Map<string, number>();
	/** Other hubs, by id, with when each last said it settled time-locks. */
	readonly #lastProgress = new Map<string, number>();
	/** Other hubs whose last heartbeat said they had releases under way. */
	readonly #releasing = new Set<string>();
	/** The other hubs alive at the last `departed()` call. */
	#known = new Set<string>();
	/**
	 * Other hubs, by id, with the number of their last lock notice (`timelock:due`) this hub has
	 * accounted for. Kept when a hub is counted out: one that comes back says how many it sent
	 * meanwhile, and those are what this hub missed.
	 */
	readonly #notices = new Map<string, number>();

	constructor(self: string, now: () => number) {
		this.#self = self;
		this.#now = now;
	}

	get self(): string {
		return this.#self;
	}

	/**
	 * Another hub said it is alive, whether it had releases under way and how many lock notices it
	 * has sent (`notices`, absent from older hubs). True when that is more than this hub received:
	 * some were lost (a Redis outage on either side, the adapter's stream trimmed past them), and the
	 * locks they named are known here only by reading every lock again.
	 */
	heard(hubId: string, releasing = false, notices?: number): boolean {
		if (hubId === this.#self) return false;
		this.#lastSeen.set(hubId, this.#now());
		if (releasing) this.#releasing.add(hubId);
		else this.#releasing.delete(hubId);
		if (typeof notices !== 'number') return false;
		const received = this.#notices.get(hubId);
		// Heard of for the first time: what it sent before is in the database, where this hub's
		// own first read (after it began to listen) found it.
		this.#notices.set(hubId, Math.max(received ?? notices, notices));
		return received !== undefined && notices > received;
	}

	/**
	 * Another hub's lock notice number `n` arrived. True when notices before it did not (see
	 * `heard`). Each hub numbers its notices from 1, and the adapter delivers one hub's messages in
	 * the order it sent them.
	 */
	noticed(hubId: string, n: number): boolean {
		if (hubId === this.#self) return false;
		const received = this.#notices.get(hubId);
		this.#notices.set(hubId, Math.max(received ?? n, n));
		return received !== undefined && n > received + 1;
	}

	/** Whether `hubId`'s last heartbeat said it had releases under way (it is busy, not stuck on nothing). */
	releasing(hubId: string): boolean {
		return this.#releasing.has(hubId);
	}

	/** Another hub said it is stopping: its share moves at once. */
	left(hubId: string): void {
		this.#lastSeen.delete(hubId);
		this.#lastProgress.delete(hubId);
		this.#releasing.delete(hubId);
	}

	/** Another hub said it settled time-locks: it is releasing its share, however slowly. */
	progressed(hubId: string): void {
		if (hubId !== this.#self) this.#lastProgress.set(hubId, this.#now());
	}

	/** When `hubId` last said it settled time-locks, or null if it has not (or is this hub). */
	lastProgress(hubId: string): number | null {
		return this.#lastProgress.get(hubId) ?? null;
	}

	/** The hubs that were alive at the previous call and are not any more (silent, or left). */
	departed(): string[] {
		const alive = new Set(this.alive());
		alive.delete(this.#self);
		const gone = [...this.#known].filter((hubId) => !alive.has(hubId));
		this.#known = alive;
		for (const hubId of gone) {
			this.#lastProgress.delete(hubId);
			this.#releasing.delete(hubId);
		}
		return gone;
	}

	/** The hubs taken as alive, this one included. */
	alive(): string[] {
		const since = this.#now() - PEER_TIMEOUT_MS;
		const hubs = [this.#self];
		for (const [hubId, at] of this.#lastSeen) {
			if (at >= since) hubs.push(hubId);
			else this.#lastSeen.delete(hubId);
		}
		return hubs;
	}

	/** The live hub that releases `id`. */
	ownerOf(id: string, alive: string[] = this.alive()): string {
		let best = this.#self;
		let bestScore = '';
		for (const hubId of alive) {
			const score = rank(hubId, id);
			if (score > bestScore || (score === bestScore && hubId < best)) {
				best = hubId;
				bestScore = score;
			}
		}
		return best;
	}

	/** Whether this hub releases `id`, given the hubs alive now. */
	owns(id: string, alive: string[] = this.alive()): boolean {
		return alive.length === 1 || this.ownerOf(id, alive) === this.#self;
	}
}

/** A hub's weight for an id: any hash that every hub computes alike and that spreads evenly. */
function rank(hubId: string, id: string): string {
	return createHash('sha1').update(hubId).update('\0').update(id).digest('hex');
}
