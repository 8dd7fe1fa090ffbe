import { Dexie, type EntityTable } from 'dexie';
import type { StoredEnvelope } from '../protocol';

/** An envelope that arrived while the app was locked: end-to-end ciphertext, as the hub relayed it. */
export interface PendingRow {
	id: string;
	/** The hub's sync order: envelopes are opened in it. */
	syncKey: string;
	envelope: StoredEnvelope;
}

/**
 * What a locked app receives, kept apart from the account's history (db.ts) until the password
 * opens the keys again: the locked app has no key to open or seal anything with, so it stores the
 * envelopes as they came, and the unlocked engine opens them into the history and drops them here.
 * A database of its own, so that this module and the history's schema never need to agree.
 */
export class PendingDb extends Dexie {
	pending!: EntityTable<PendingRow, 'id'>;

	constructor(username: string) {
		super(pendingDbName(username));
		this.version(1).stores({ pending: 'id, syncKey' });
	}

	/** Keeps envelopes (an envelope already kept is kept once); returns how many are kept now. */
	async keep(envelopes: StoredEnvelope[]): Promise<number> {
		await this.pending.bulkPut(
			envelopes.map((envelope) => ({ id: envelope.id, syncKey: envelope.syncKey, envelope })),
		);
		return this.pending.count();
	}

	/** Every kept envelope, in the hub's order. */
	async all(): Promise<StoredEnvelope[]> {
		return (await this.pending.orderBy('syncKey').toArray()).map((row) => row.envelope);
	}

	async drop(ids: string[]): Promise<void> {
		await this.pending.bulkDelete(ids);
	}
}

export function pendingDbName(username: string): string {
	return `hourglass-${username}-pending`;
}

/** The envelopes kept for `username` on this device, if any (without creating the database). */
export async function pendingEnvelopes(username: string): Promise<StoredEnvelope[]> {
	if (!(await Dexie.exists(pendingDbName(username)))) return [];
	const db = new PendingDb(username);
	try {
		return await db.all();
	} finally {
		db.close();
	}
}

/** Drops envelopes once they are in the history. */
export async function dropPending(username: string, ids: string[]): Promise<void> {
	const db = new PendingDb(username);
	try {
		await db.drop(ids);
	} finally {
		db.close();
	}
}

/** Forgets what was kept for `username` (erasing this device's data). */
export async function deletePending(username: string): Promise<void> {
	await Dexie.delete(pendingDbName(username));
}
