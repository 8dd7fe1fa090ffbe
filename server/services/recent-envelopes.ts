import type { StoredEnvelope } from '../../src/lib/protocol';

/**
 * Envelopes this hub made deliverable lately (stored live, or released from a time-lock),
 * remembered by id with their sender and recipient (both fixed once stored), so the receipt the
 * PWA sends for each message it receives needs no read. 50,000 entries of about 150 bytes: the
 * last few minutes at full load; older or other hubs' envelopes are read from the store.
 */
export const RECENT_MAX = 50_000;

export interface RecentEnvelope {
	from: string;
	to: string;
	expiresAfterMs: number | null;
}

export class RecentEnvelopes {
	/** Insertion order is age: the oldest is forgotten first. */
	readonly #byId = new Map<string, RecentEnvelope>();

	constructor(private readonly max = RECENT_MAX) {}

	remember(stored: StoredEnvelope): void {
		this.#byId.set(stored.id, {
			from: stored.from,
			to: stored.to,
			expiresAfterMs: stored.expiresAfterMs ?? null,
		});
		if (this.#byId.size > this.max) {
			const oldest = this.#byId.keys().next();
			if (!oldest.done) this.#byId.delete(oldest.value);
		}
	}

	get(id: string): RecentEnvelope | undefined {
		return this.#byId.get(id);
	}
}
