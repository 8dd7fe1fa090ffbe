import { dueSlotOf } from './due-slot';
import {
	parseSyncKey,
	syncKeyOf,
	syncKeyTime,
	type EnvelopeState,
	type SealedNotice,
	type StoredEnvelope,
	type Tombstone,
} from '../../src/lib/protocol';
import { type mongo } from 'mongoose';
import { BatchWriter, insertUnordered, type Drainable } from './batch-writer';
import { type EnvelopeDoc, type Models } from './models';
import { base64urlBytes } from './usage';

export interface EnvelopePage {
	envelopes: StoredEnvelope[];
	/** Messages deleted for everyone, from the same place in the order as the envelopes. */
	deleted: Tombstone[];
	more: boolean;
}

/** How a release went: the envelopes this call released, and those decided before it (by anyone). */
export interface ReleaseResult {
	released: StoredEnvelope[];
	decided: string[];
}

/** A position in the scheduler's order of locked envelopes: unlock time, then id. */
export interface DuePosition {
	unlockAt: number;
	id: string;
}

export interface EnvelopesRepo {
	/**
	 * Stores a live envelope, or a locked one until its decision. False when the id is already
	 * stored (the unique _id decides, so a resend is stored once): for a live one, settled or earlier
	 * in the same batch — it is one insert, grouped with the others that arrive at the same moment
	 * (BatchWriter); for a locked one, locked or settled.
	 */
	insert(envelope: StoredEnvelope): Promise<boolean>;
	/** The envelope as it stands: settled if it is, else locked, else null. */
	get(id: string): Promise<StoredEnvelope | null>;
	/** The still-locked copies among `ids`, in one query (a copy may outlive its decision briefly). */
	lockedMany(ids: string[]): Promise<StoredEnvelope[]>;
	/** The settled (live, released or cancelled) envelopes among `ids`, in one query. */
	settledMany(ids: string[]): Promise<StoredEnvelope[]>;
	/**
	 * One sync page for `username`: envelopes addressed to them that are deliverable (live or
	 * released — never locked or cancelled) and every envelope they sent, after `after`, in order.
	 */
	page(username: string, after: string | null, limit: number): Promise<EnvelopePage>;
	/** Announced, still-locked envelopes addressed to `username`, as notices without ciphertext. */
	sealedFor(username: string, limit: number): Promise<SealedNotice[]>;
	/** The locked envelopes `username` sent, soonest unlock first. */
	lockedFrom(username: string, limit: number): Promise<StoredEnvelope[]>;
	/**
	 * Locked copies due at or before `until`, after `after` in (unlockAt, id) order: the scheduler's
	 * refill, read whole so that their release needs no read (the embedded engine decodes every
	 * locked copy for a range whatever the projection, and an `_id $in` read later would decode
	 * them all again). May include copies whose decision was taken but which are not yet removed.
	 */
	lockedDueBy(until: number, limit: number, after?: DuePosition | null): Promise<StoredEnvelope[]>;
	/**
	 * Every locked copy whose unlock time falls in one of these due slots (`dueSlotOf`), whole, in
	 * no order: the scheduler's steady refill. One equality per slot, so what it reads is what falls
	 * due in them, however many locks wait beyond. May include decided copies not yet removed.
	 */
	lockedInSlots(slots: number[]): Promise<StoredEnvelope[]>;
	/** Gives the locked copies stored before due slots existed their slot. Returns how many it changed. */
	backfillDueSlots(): Promise<number>;
	/** Gives envelopes stored before sizes were kept their `size`; how many it gave one. */
	backfillSizes(): Promise<number>;
	/**
	 * The release decision for each envelope: one unordered insert of the released copies (visible at
	 * `releasedAt` in the sync order) into the settled collection. An id already settled there was
	 * decided before (by a release elsewhere or a cancel) and is reported as decided. Locked copies
	 * are left for `removeLocked`.
	 */
	release(envelopes: StoredEnvelope[], releasedAt: number): Promise<ReleaseResult>;
	/** The cancel decision: the settled copy, as cancelled. Says which decision stands for the id. */
	cancel(envelope: StoredEnvelope, at: number): Promise<'cancelled' | 'decided-before'>;
	/** Removes the locked copies of these ids, whose decisions are stored. */
	removeLocked(ids: string[]): Promise<void>;
	/**
	 * Delete for everyone: the settled (live or released) envelope `id` of `from` becomes a
	 * tombstone in place, its ciphertext gone, moved to `at` in both parties' sync orders. Null
	 * when there is no such envelope (or it is a tombstone already).
	 */
	markDeleted(id: string, from: string, at: number, signature: string): Promise<Tombstone | null>;
	/** The tombstone of `id`, if it is one. */
	tombstone(id: string): Promise<Tombstone | null>;
	/** Which of `ids` are addressed to `to` and deliverable, with their senders and timers. */
	deliverable(
		ids: string[],
		to: string,
	): Promise<{ id: string; from: string; expiresAfterMs: number | null }[]>;
	/** Cancelled envelopes and tombstones stored before `before` (purged after the retention period). */
	cancelledBefore(before: number, limit: number): Promise<string[]>;
	deleteMany(ids: string[]): Promise<void>;
	/**
	 * What a deleted account leaves waiting: every envelope addressed to `username` (settled or
	 * locked) and every still-locked one they sent. Their settled sent envelopes stay: those are
	 * the recipients' messages now. Returns the ids of the locked copies removed, for the scheduler.
	 */
	deleteForAccount(username: string): Promise<string[]>;
	/**
	 * Everything `from` left stored for `to` (a declined or blocked message request): settled and
	 * locked. Returns how many were removed and the ids of the locked copies, for the scheduler.
	 */
	deleteFromTo(from: string, to: string): Promise<{ deleted: number; lockedIds: string[] }>;
}

const DELIVERABLE: EnvelopeState[] = ['live', 'released'];
/**
 * Up to this many ids, a receipt's read is one `_id` lookup each, side by side; beyond, one query
 * on the recipient. Measured on FerretDB 1.24/SQLite with 5,000 envelopes for 50 recipients: one
 * `_id` lookup 14 ms, ten side by side 90 ms, `{to, _id: {$in}}` 150-235 ms whatever the count.
 */
const ID_LOOKUPS_MAX = 16;
/** Updates sent together by `backfillSizes`: one command per this many envelopes. */
const BACKFILL_BATCH = 500;

export function envelopesRepo(models: Models, writers: Drainable[] = []): EnvelopesRepo {
	const { envelopes, locked } = models;
	// The driver's collection for inserts, typed with our string _id (mongoose types it for ObjectId ids).
	const settled = envelopes.collection as unknown as mongo.Collection<EnvelopeDoc>;
	const lockedCollection = locked.collection as unknown as mongo.Collection<EnvelopeDoc>;
	/**
	 * The locked copies among `docs` that are not decided yet: a copy beside a settled one (not yet
	 * removed) is decided already. The settled copies are looked for among the party's own
	 * envelopes, an equality the embedded engine sends to its index (an `_id $in` alone would make
	 * it decode every envelope); MongoDB answers both from the _id index.
	 */
	const undecided = async (docs: EnvelopeDoc[], party: { from: string } | { to: string }) => {
		if (docs.length === 0) return docs;
		const ids = docs.map((d) => d._id);
		const found = await settled.find({ ...party, _id: { $in: ids } }, { projection: { _id: 1 } }).toArray();
		const decided = new Set(found.map((d) => d._id));
		return docs.filter((d) => !decided.has(d._id));
	};
	const liveWriter = new BatchWriter(settled);
	// Locked sends are grouped the same way: a burst of them is one insert, not one per message.
	const lockedWriter = new BatchWriter(lockedCollection);
	writers.push(liveWriter, lockedWriter);
	return {
		async insert(e) {
			/*
			 * Only the settled collection's unique _id is checked, not the locked one. Ids are made by
			 * senders; a locked envelope's id is known to its sender and, once announced, to its
			 * recipient. A live envelope stored under it is signed by, and shown as from, whoever sent
			 * it. What it can do: take the id's place in the settled collection, so the locked
			 * envelope's release insert is refused as decided and it is never delivered. The sender
			 * could cancel it anyway; the recipient can only decline a message to themselves. No one
			 * else knows the id (docs/SECURITY.md, "Message ids").
			 */
			if (e.state !== 'locked') return liveWriter.insert(toDoc(e));
			// False: locked already (a resend before its decision).
			if (!(await lockedWriter.insert(toDoc(e)))) return false;
			// Settled already (a resend after its cancel, or after its release by a hub whose
			// clock runs ahead): the settled copy stands. Checked after the insert, so a
			// decision taken meanwhile is seen. One `_id` lookup: the shape the embedded engine
			// answers from its index (an `_id $in` over a batch would make it decode every envelope).
			if ((await settled.findOne({ _id: e.id }, { projection: { _id: 1 } })) !== null) {
				await lockedCollection.deleteOne({ _id: e.id });
				return false;
			}
			return true;
		},
		async get(id) {
			// The locked copy first, then the settled one: a decision inserts the settled copy before the
			// locked one is removed, so a locked copy gone by the first read is settled by the second.
			// (Settled first could miss both when a release lands between the two reads.)
			const lockedDoc = await locked.findById(id).lean<EnvelopeDoc>();
			const settledDoc = await envelopes.findById(id).lean<EnvelopeDoc>();
			// A tombstone is no envelope any more (see tombstone()).
			if (settledDoc?.state === 'deleted') return null;
			const doc = settledDoc ?? lockedDoc;
			return doc ? toStoredEnvelope(doc) : null;
		},
		async lockedMany(ids) {
			if (ids.length === 0) return [];
			const docs = await locked.find({ _id: { $in: ids } }).lean<EnvelopeDoc[]>();
			return docs.map(toStoredEnvelope);
		},
		async settledMany(ids) {
			if (ids.length === 0) return [];
			const docs = await envelopes.find({ _id: { $in: ids } }).lean<EnvelopeDoc[]>();
			return docs.filter((d) => d.state !== 'deleted').map(toStoredEnvelope);
		},
		async page(username, after, limit) {
			const cursor = after === null ? null : parseSyncKey(after);
			// After (at, id) in (syncAt, _id) order: the same order as the syncKey text.
			const since = cursor
				? { $or: [{ syncAt: { $gt: cursor.at } }, { syncAt: cursor.at, _id: { $gt: cursor.id } }] }
				: {};
			const page = { sort: { syncAt: 1, _id: 1 }, limit: limit + 1 } as const;
			// Indexed queries merged here instead of one $or: what they received (deliverable only),
			// what they sent (settled, and still locked). The driver directly: lean documents, no casting.
			const [received, sent, sentLocked] = await Promise.all([
				settled.find({ to: username, state: { $in: [...DELIVERABLE, 'deleted'] }, ...since }, page).toArray(),
				settled.find({ from: username, ...since }, page).toArray(),
				lockedCollection.find({ from: username, ...since }, page).toArray(),
			]);
			const byId = new Map<string, EnvelopeDoc>();
			for (const doc of [...received, ...sent]) byId.set(doc._id, doc);
			// A locked copy not yet removed after its decision sorts before its settled copy (stored
			// earlier than decided), so a device that applies a page in order ends on the settled state.
			for (const doc of sentLocked) if (!byId.has(doc._id)) byId.set(doc._id, doc);
			const merged = [...byId.values()].sort((a, b) =>
				a.syncAt !== b.syncAt ? a.syncAt - b.syncAt : a._id < b._id ? -1 : a._id > b._id ? 1 : 0,
			);
			const kept = merged.slice(0, limit);
			return {
				envelopes: kept.filter((d) => d.state !== 'deleted').map(toStoredEnvelope),
				deleted: kept.filter((d) => d.state === 'deleted').map(toTombstone),
				more: merged.length > limit,
			};
		},
		async sealedFor(username, limit) {
			const docs = await locked
				.find({ to: username, announce: true })
				.sort({ unlockAt: 1 })
				.limit(limit)
				.lean<EnvelopeDoc[]>();
			return (await undecided(docs, { to: username })).map((d) => ({
				id: d._id,
				from: d.from,
				to: d.to,
				sentAt: d.sentAt,
				unlockAt: d.unlockAt ?? 0,
			}));
		},
		async lockedFrom(username, limit) {
			const docs = await locked
				.find({ from: username })
				.sort({ unlockAt: 1 })
				.limit(limit)
				.lean<EnvelopeDoc[]>();
			return (await undecided(docs, { from: username })).map(toStoredEnvelope);
		},
		async lockedInSlots(slots) {
			const pages = await Promise.all(slots.map((dueSlot) => lockedCollection.find({ dueSlot }).toArray()));
			return pages.flat().map(toStoredEnvelope);
		},
		async backfillDueSlots() {
			const missing = await lockedCollection
				.find({ dueSlot: { $exists: false } }, { projection: { _id: 1, unlockAt: 1 } })
				.toArray();
			const writes = missing
				.filter((d) => typeof d.unlockAt === 'number')
				.map((d) => ({
					updateOne: { filter: { _id: d._id }, update: { $set: { dueSlot: dueSlotOf(d.unlockAt ?? 0) } } },
				}));
			if (writes.length > 0) await lockedCollection.bulkWrite(writes, { ordered: false });
			return writes.length;
		},
		async backfillSizes() {
			let given = 0;
			for (const collection of [settled, lockedCollection]) {
				// One pass (a cursor), not pages: the embedded engine would scan the whole collection for each.
				const cursor = collection.find(
					{ size: { $exists: false } },
					{ projection: { _id: 1, ciphertext: 1 } },
				);
				let writes: mongo.AnyBulkWriteOperation<EnvelopeDoc>[] = [];
				const flush = async () => {
					if (writes.length > 0) await collection.bulkWrite(writes, { ordered: false });
					given += writes.length;
					writes = [];
				};
				for await (const d of cursor) {
					const size = base64urlBytes(d.ciphertext ?? '');
					writes.push({ updateOne: { filter: { _id: d._id }, update: { $set: { size } } } });
					if (writes.length >= BACKFILL_BATCH) await flush();
				}
				await flush();
			}
			return given;
		},
		async lockedDueBy(until, limit, after) {
			const range = after
				? {
						$or: [
							{ unlockAt: { $gt: after.unlockAt, $lte: until } },
							{ unlockAt: after.unlockAt, _id: { $gt: after.id } },
						],
					}
				: { unlockAt: { $lte: until } };
			const docs = await lockedCollection.find(range, { sort: { unlockAt: 1, _id: 1 }, limit }).toArray();
			return docs.map(toStoredEnvelope);
		},
		// Insert only: FerretDB's SQLite backend inserts a batch in one statement each and checks the
		// unique _id through its index, where an update scans the whole table for every document.
		async release(batch, releasedAt) {
			if (batch.length === 0) return { released: [], decided: [] };
			const docs = batch.map((e) =>
				toDoc({ ...e, state: 'released', releasedAt, syncKey: syncKeyOf(releasedAt, e.id) }),
			);
			const refused = await insertUnordered(settled, docs);
			return {
				released: docs.filter((_, i) => !refused.has(i)).map(toStoredEnvelope),
				decided: [...refused].map((i) => docs[i]._id),
			};
		},
		async cancel(envelope, at) {
			// Placed at the cancel in the sender's sync order, so their other devices learn of it.
			const doc = toDoc({ ...envelope, state: 'cancelled', syncKey: syncKeyOf(at, envelope.id) });
			const refused = await insertUnordered(settled, [doc]);
			return refused.size === 0 ? 'cancelled' : 'decided-before';
		},
		async removeLocked(ids) {
			if (ids.length === 0) return;
			// One delete statement per copy, by _id, in one command: the embedded engine sends each `_id`
			// equality down to its index, where any filter with `$in` made it decode every candidate
			// copy (all of a recipient's locks, for each slice of removals). MongoDB answers both from
			// the _id index. A copy already gone is no error.
			await lockedCollection.bulkWrite(
				ids.map((id) => ({ deleteOne: { filter: { _id: id } } })),
				{ ordered: false },
			);
		},
		async markDeleted(id, from, at, signature) {
			// One update of the envelope's own document, found by _id: nothing else writes to it once settled.
			const result = await settled.updateOne(
				{ _id: id, from, state: { $in: DELIVERABLE } },
				{
					$set: {
						state: 'deleted',
						nonce: '',
						ciphertext: '',
						size: 0,
						syncAt: at,
						deletedAt: at,
						deleteSignature: signature,
					},
				},
			);
			return result.modifiedCount === 1 ? this.tombstone(id) : null;
		},
		async tombstone(id) {
			const doc = await settled.findOne({ _id: id });
			return doc?.state === 'deleted' ? toTombstone(doc) : null;
		},
		async deliverable(ids, to) {
			if (ids.length === 0) return [];
			const projection = { _id: 1, from: 1, to: 1, state: 1, expiresAfterMs: 1 };
			type Head = Pick<EnvelopeDoc, '_id' | 'from' | 'to' | 'state' | 'expiresAfterMs'>;
			// Equality first: the embedded engine sends only equality filters down to its backend and
			// decodes every candidate for the rest. A few ids are _id lookups side by side; more are the
			// recipient's envelopes filtered by id, whose cost does not grow with the count. MongoDB
			// answers both from the _id index.
			const docs =
				ids.length <= ID_LOOKUPS_MAX
					? (await Promise.all(ids.map((id) => settled.findOne<Head>({ _id: id }, { projection })))).filter(
							(d) => d !== null,
						)
					: await settled.find<Head>({ to, _id: { $in: ids } }, { projection }).toArray();
			return docs
				.filter((d) => d.to === to && (d.state === 'live' || d.state === 'released'))
				.map((d) => ({ id: d._id, from: d.from, expiresAfterMs: d.expiresAfterMs ?? null }));
		},
		async cancelledBefore(before, limit) {
			const docs = await envelopes
				.find({ state: { $in: ['cancelled', 'deleted'] }, storedAt: { $lt: before } }, { _id: 1 })
				.limit(limit)
				.lean<Pick<EnvelopeDoc, '_id'>[]>();
			return docs.map((d) => d._id);
		},
		async deleteMany(ids) {
			if (ids.length > 0) await envelopes.deleteMany({ _id: { $in: ids } });
		},
		async deleteForAccount(username) {
			const lockedIds = [
				...(await locked.find({ to: username }, { _id: 1 }).lean<Pick<EnvelopeDoc, '_id'>[]>()),
				...(await locked.find({ from: username }, { _id: 1 }).lean<Pick<EnvelopeDoc, '_id'>[]>()),
			].map((d) => d._id);
			// Equality filters only, which the embedded engine sends down to its backend.
			await Promise.all([
				envelopes.deleteMany({ to: username }),
				locked.deleteMany({ to: username }),
				locked.deleteMany({ from: username }),
			]);
			return [...new Set(lockedIds)];
		},
		async deleteFromTo(from, to) {
			const lockedIds = (await locked.find({ from, to }, { _id: 1 }).lean<Pick<EnvelopeDoc, '_id'>[]>()).map(
				(d) => d._id,
			);
			// Equality filters only, which the embedded engine sends down to its backend.
			const [settledGone, lockedGone] = await Promise.all([
				envelopes.deleteMany({ from, to }),
				locked.deleteMany({ from, to }),
			]);
			return { deleted: settledGone.deletedCount + lockedGone.deletedCount, lockedIds };
		},
	};
}

function toTombstone(doc: EnvelopeDoc): Tombstone {
	return {
		id: doc._id,
		from: doc.from,
		to: doc.to,
		deletedAt: doc.deletedAt ?? doc.syncAt,
		signature: doc.deleteSignature ?? '',
		syncKey: syncKeyOf(doc.syncAt, doc._id),
	};
}

function toDoc(e: StoredEnvelope): EnvelopeDoc {
	return {
		_id: e.id,
		v: e.v,
		from: e.from,
		to: e.to,
		sentAt: e.sentAt,
		unlockAt: e.unlockAt,
		announce: e.announce,
		kind: e.kind,
		expiresAfterMs: e.expiresAfterMs ?? null,
		nonce: e.nonce,
		ciphertext: e.ciphertext,
		size: base64urlBytes(e.ciphertext),
		...(e.fileId === undefined ? {} : { fileId: e.fileId }),
		signature: e.signature,
		state: e.state,
		storedAt: e.storedAt,
		releasedAt: e.releasedAt,
		syncAt: syncKeyTime(e.syncKey),
		...(e.state === 'locked' && e.unlockAt !== null ? { dueSlot: dueSlotOf(e.unlockAt) } : {}),
	};
}

/** Document → protocol type, field by field: nothing the database adds leaks into a reply. */
export function toStoredEnvelope(doc: EnvelopeDoc): StoredEnvelope {
	if (doc.state === 'deleted') throw new Error('toStoredEnvelope: a tombstone is not an envelope');
	return {
		v: 1,
		id: doc._id,
		from: doc.from,
		to: doc.to,
		sentAt: doc.sentAt,
		unlockAt: doc.unlockAt ?? null,
		announce: doc.announce,
		kind: doc.kind,
		// Only when set: an envelope signed without the field keeps its exact shape.
		...(doc.expiresAfterMs != null ? { expiresAfterMs: doc.expiresAfterMs } : {}),
		nonce: doc.nonce,
		ciphertext: doc.ciphertext,
		...(doc.fileId ? { fileId: doc.fileId } : {}),
		signature: doc.signature,
		state: doc.state,
		storedAt: doc.storedAt,
		releasedAt: doc.releasedAt ?? null,
		syncKey: syncKeyOf(doc.syncAt, doc._id),
	};
}
