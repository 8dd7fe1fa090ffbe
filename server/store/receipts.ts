import { isDuplicateKey, type Models, type ReceiptDoc } from './models';

export interface ReceiptRecord {
	id: string;
	from: string;
	to: string;
	at: number;
}

export interface ReceiptsRepo {
	/** True when this is the envelope's first receipt. */
	insert(receipt: ReceiptRecord): Promise<boolean>;
	/** Receipts for envelopes `from` sent, recorded at or after `since`, oldest first. */
	forSender(from: string, since: number, limit: number): Promise<ReceiptRecord[]>;
	/** Receipts older than `before`: their envelopes have passed the retention period. */
	olderThan(before: number, limit: number): Promise<ReceiptRecord[]>;
	deleteMany(ids: string[]): Promise<void>;
}

export function receiptsRepo(models: Models): ReceiptsRepo {
	return {
		async insert(receipt) {
			try {
				await models.receipts.create({ _id: receipt.id, from: receipt.from, to: receipt.to, at: receipt.at });
				return true;
			} catch (error) {
				if (isDuplicateKey(error)) return false;
				throw error;
			}
		},
		async forSender(from, since, limit) {
			const docs = await models.receipts
				.find({ from, at: { $gte: since } })
				.sort({ at: 1, _id: 1 })
				.limit(limit)
				.lean<ReceiptDoc[]>();
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
	};
}

function toRecord(doc: ReceiptDoc): ReceiptRecord {
	return { id: doc._id, from: doc.from, to: doc.to, at: doc.at };
}
