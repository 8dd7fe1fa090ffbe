import type { mongo } from 'mongoose';
import { BatchWriter, type Drainable } from './batch-writer';
import type { Models, ReceiptDoc } from './models';

export interface ReceiptRecord {
	id: string;
	from: string;
	to: string;
	at: number;
}

export interface ReceiptsRepo {
	/**
	 * Records receipts in one unordered insert, grouped with those of other calls arriving at the
	 * same moment (BatchWriter). For each, true when it is the envelope's first receipt.
	 */
	insertMany(receipts: ReceiptRecord[]): Promise<boolean[]>;
	/** Receipts for envelopes `from` sent, recorded at or after `since`, oldest first. */
	forSender(from: string, since: number, limit: number): Promise<ReceiptRecord[]>;
	/** Receipts older than `before`: their envelopes have passed the retention period. */
	olderThan(before: number, limit: number): Promise<ReceiptRecord[]>;
	deleteMany(ids: string[]): Promise<void>;
	/** Deletes every receipt for envelopes `from` sent (their account is deleted). */
	deleteForSender(from: string): Promise<void>;
}

export function receiptsRepo(models: Models, writers: Drainable[] = []): ReceiptsRepo {
	// The driver's collection, typed with our string _id (mongoose types it for ObjectId ids).
	const collection = models.receipts.collection as unknown as mongo.Collection<ReceiptDoc>;
	const writer = new BatchWriter(collection);
	writers.push(writer);
	return {
		insertMany(receipts) {
			return Promise.all(receipts.map((r) => writer.insert({ _id: r.id, from: r.from, to: r.to, at: r.at })));
		},
		async forSender(from, since, limit) {
			// On every sync: the driver directly, lean documents.
			const docs = await collection
				.find({ from, at: { $gte: since } }, { sort: { at: 1, _id: 1 }, limit })
				.toArray();
			return docs.map(toRecord);
		},
		async olderThan(before, limit) {
			const docs = await models.receipts
				.find({ at: { $lt: before } })
				.sort({ at: 1 })
				.limit(limit)
				.lean<ReceiptDoc[]>();
			return docs.map(toRecord);
		},
		async deleteMany(ids) {
			if (ids.length > 0) await models.receipts.deleteMany({ _id: { $in: ids } });
		},
		async deleteForSender(from) {
			await models.receipts.deleteMany({ from });
		},
	};
}

function toRecord(doc: ReceiptDoc): ReceiptRecord {
	return { id: doc._id, from: doc.from, to: doc.to, at: doc.at };
}
