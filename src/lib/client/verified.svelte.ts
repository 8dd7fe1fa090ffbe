import { liveQuery, type Subscription } from 'dexie';
import { isVerifiedPin, verificationOf, type PinnedKeys } from '../sdk';
import type { AccountDb } from './db';

/**
 * The peers whose safety number the user compared on this device, following the database. A mark
 * counts only while the keys it was made for are the ones pinned: a re-pin never inherits it.
 */
export class VerifiedPeers {
	readonly #db: AccountDb;
	#peers = $state.raw<ReadonlyMap<string, number>>(new Map()); // eslint-disable-line svelte/prefer-svelte-reactivity -- replaced whole, never changed in place
	#query: Subscription | null = null;

	constructor(db: AccountDb) {
		this.#db = db;
	}

	start(): void {
		this.#query?.unsubscribe();
		this.#query = liveQuery(() => this.#read()).subscribe({
			next: (peers) => (this.#peers = peers),
			error: (error: unknown) => console.error('hourglass: verified peers failed', error),
		});
	}

	stop(): void {
		this.#query?.unsubscribe();
		this.#query = null;
	}

	has(peer: string): boolean {
		return this.#peers.has(peer);
	}

	/** When the user verified `peer`'s keys pinned now, or null. */
	verifiedAt(peer: string): number | null {
		return this.#peers.get(peer) ?? null;
	}

	/** Marks the keys pinned now for `pin.username` as verified, unless the pin changed meanwhile. */
	async mark(pin: PinnedKeys, at: number): Promise<boolean> {
		return this.#db.transaction('rw', this.#db.pins, this.#db.verified, async () => {
			const current = await this.#db.pins.get(pin.username);
			if (!current || current.signPk !== pin.signPk || current.boxPk !== pin.boxPk) return false;
			await this.#db.verified.put(verificationOf(current, at));
			return true;
		});
	}

	async clear(peer: string): Promise<void> {
		await this.#db.verified.delete(peer);
	}

	async #read(): Promise<ReadonlyMap<string, number>> {
		const marks = await this.#db.verified.toArray();
		const pins = await this.#db.pins.bulkGet(marks.map((m) => m.username));
		// eslint-disable-next-line svelte/prefer-svelte-reactivity -- built once per read and replaced whole
		const peers = new Map<string, number>();
		marks.forEach((mark, i) => {
			if (isVerifiedPin(pins[i], mark)) peers.set(mark.username, mark.verifiedAt);
		});
		return peers;
	}
}
