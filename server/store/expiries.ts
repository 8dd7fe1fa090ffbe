import type { mongo } from 'mongoose';
import { insertUnordered } from './batch-writer';
import type { ExpiryDoc, Models } from './models';

export interface ExpiryRecord {
	id: string;
	to: string;
	at: number;
}

/** When the hub removes delivered disappearing messages (server/services/maintenance.ts). */
export interface ExpiriesRepo {
	/** Records each message's removal time; a second record for an id keeps the first (the first delivery decides). */
	schedule(records: ExpiryRecord[]): Promise<void>;
	/** Removals due at or before `now`, soonest first. */
	due(now: number, limit: number): Promise<ExpiryRecord[]>;
	deleteMany(ids: string[]): Promise<void>;
}

export function expiriesRepo(models: Models): ExpiriesRepo {
	const collection = models.expiries.collection as unknown as mongo.Collection<ExpiryDoc>;
	return {
		async schedule(records) {
			if (records.length === 0) return;
			// A duplicate _id is an expiry already scheduled: the earlier one stands.
			await insertUnordered(
				collection,
				records.map((r) => ({ _id: r.id, to: r.to, at: r.at })),
			);
		},
		async due(now, limit) {
			// A range, read in the embedded engine's own code: this collection holds only what waits.
			const docs = await collection.find({ at: { $lte: now } }, { sort: { at: 1 }, limit }).toArray();
			return docs.map((d) => ({ id: d._id, to: d.to, at: d.at }));
		},
		async deleteMany(ids) {
			if (ids.length > 0) await collection.deleteMany({ _id: { $in: ids } });
		},
	};
}
