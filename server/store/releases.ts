import { Schema, mongo, type Connection, type Model } from 'mongoose';
import { isDuplicateKey } from './models';

export type ReleaseOutcome = 'released' | 'cancelled';

/** The one decision about a time-locked envelope: released or cancelled, when, and by which hub. */
export interface ReleaseRecord {
	id: string;
	outcome: ReleaseOutcome;
	at: number;
	hub: string;
}

interface ReleaseDoc {
	/** The envelope's id: the unique _id makes the first insert the only decision. */
	_id: string;
	outcome: ReleaseOutcome;
	at: number;
	hub: string;
}

export interface ReleasesRepo {
	/**
	 * Claims every id for `outcome` with one unordered insert and returns the ids this call won.
	 * An id it lost (E11000) was decided by someone else: read that decision with `get`.
	 */
	claim(ids: string[], outcome: ReleaseOutcome, at: number, hub: string): Promise<Set<string>>;
	get(ids: string[]): Promise<ReleaseRecord[]>;
	/** Removes decisions taken before `before`, long after their envelopes were settled. */
	purgeBefore(before: number): Promise<number>;
	/** Says that `hub` is alive at `at` (one document per hub, written only by that hub). */
	heartbeat(hub: string, at: number): Promise<void>;
	/** Which of `hubs` said they were alive at or after `since`. */
	aliveSince(hubs: string[], since: number): Promise<Set<string>>;
	/** Forgets hubs silent since before `before`. */
	forgetHubsBefore(before: number): Promise<void>;
}

interface HubDoc {
	/** The hub's random per-process id. */
	_id: string;
	seenAt: number;
}

const schema = new Schema<ReleaseDoc>(
	{
		_id: { type: String, required: true },
		outcome: { type: String, required: true, enum: ['released', 'cancelled'] },
		at: { type: Number, required: true },
		hub: { type: String, required: true },
	},
	{ versionKey: false, strict: true, collection: 'releases' },
);

const hubSchema = new Schema<HubDoc>(
	{
		_id: { type: String, required: true },
		seenAt: { type: Number, required: true },
	},
	{ versionKey: false, strict: true, collection: 'timelock_hubs' },
);

/** The releases collection on the hub's connection (its only index is the unique _id), and the hubs' heartbeats. */
export async function releasesRepo(conn: Connection): Promise<ReleasesRepo> {
	const model: Model<ReleaseDoc> = conn.model<ReleaseDoc>('Release', schema);
	const hubs: Model<HubDoc> = conn.model<HubDoc>('TimelockHub', hubSchema);
	await Promise.all([model.init(), hubs.init()]);
	// The driver's collection, typed with our string _id (mongoose types it for ObjectId ids).
	const collection = model.collection as unknown as mongo.Collection<ReleaseDoc>;
	return {
		async claim(ids, outcome, at, hub) {
			const won = new Set(ids);
			if (ids.length === 0) return won;
			const docs: ReleaseDoc[] = ids.map((id) => ({ _id: id, outcome, at, hub }));
			try {
				// One round trip for a whole batch; unordered, so one duplicate does not stop the others.
				await collection.insertMany(docs, { ordered: false });
			} catch (error) {
				for (const index of duplicateIndexes(error, docs.length)) won.delete(ids[index]);
			}
			return won;
		},
		async get(ids) {
			if (ids.length === 0) return [];
			// A lookup by _id alone is the only filter FerretDB's SQLite backend pushes down.
			const docs =
				ids.length === 1
					? [await model.findById(ids[0]).lean<ReleaseDoc>()].filter((d) => d !== null)
					: await model.find({ _id: { $in: ids } }).lean<ReleaseDoc[]>();
			return docs.map((d) => ({ id: d._id, outcome: d.outcome, at: d.at, hub: d.hub }));
		},
		async purgeBefore(before) {
			const result = await model.deleteMany({ at: { $lt: before } });
			return result.deletedCount;
		},
		async heartbeat(hub, at) {
			await hubs.updateOne({ _id: hub }, { $set: { seenAt: at } }, { upsert: true });
		},
		async aliveSince(ids, since) {
			if (ids.length === 0) return new Set();
			const docs = await hubs.find({ _id: { $in: ids } }).lean<HubDoc[]>();
			return new Set(docs.filter((d) => d.seenAt >= since).map((d) => d._id));
		},
		async forgetHubsBefore(before) {
			await hubs.deleteMany({ seenAt: { $lt: before } });
		},
	};
}

/**
 * The positions an unordered insert refused as duplicates. Any other failure is thrown: the
 * caller cannot know which claims were written, so it must retry the batch (claims are idempotent).
 */
function duplicateIndexes(error: unknown, count: number): number[] {
	if (error instanceof mongo.MongoBulkWriteError) {
		const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
		if (writeErrors.length > 0 && writeErrors.every((w) => w.code === 11000)) {
			return writeErrors.map((w) => w.index);
		}
		throw error;
	}
	// A single-document batch may surface as a plain duplicate-key error.
	if (count === 1 && isDuplicateKey(error)) return [0];
	throw error;
}
