import type { EnvelopeState, SealedNotice, StoredEnvelope } from '../../src/lib/protocol';
import { isDuplicateKey, type EnvelopeDoc, type Models } from './models';

/** Width of the time part of a syncKey: 15 digits hold any epoch-ms date up to the year 33658. */
const SYNC_TIME_DIGITS = 15;

/** A position in the sync order: hub time (zero-padded so text order is time order), then the id. */
export function syncKeyOf(at: number, id: string): string {
	return `${String(at).padStart(SYNC_TIME_DIGITS, '0')}-${id}`;
}

/** The hub time inside a syncKey, or 0 for a key that does not start with one. */
export function syncKeyTime(key: string | null): number {
	if (!key) return 0;
	const digits = /^(\d{15})-/.exec(key);
	return digits ? Number(digits[1]) : 0;
}

/**
 * A cursor as (time, id), so pages filter on the stored number. The SDK's overlap cursor
 * (`NNNNNNNNNNNNNNN-`, no id) is (time, ''), which every id at that time follows, as in text order.
 * Null for a cursor that is not a syncKey: the page then starts from the beginning.
 */
export function parseSyncKey(key: string): { at: number; id: string } | null {
	const parts = /^(\d{15})(?:-(.*))?$/s.exec(key);
	return parts ? { at: Number(parts[1]), id: parts[2] ?? '' } : null;
}

export interface EnvelopePage {
	envelopes: StoredEnvelope[];
	more: boolean;
}

export interface EnvelopesRepo {
	/** False when the id is already stored (the unique _id decides, so a resend is stored once). */
	insert(envelope: StoredEnvelope): Promise<boolean>;
	get(id: string): Promise<StoredEnvelope | null>;
	/** The stored envelopes among `ids`, in no particular order, in one query. */
	getMany(ids: string[]): Promise<StoredEnvelope[]>;
	/**
	 * One sync page for `username`: envelopes addressed to them that are deliverable (live or
	 * released — never locked or cancelled) and every envelope they sent, after `after`, in order.
	 */
	page(username: string, after: string | null, limit: number): Promise<EnvelopePage>;
	/** Announced, still-locked envelopes addressed to `username`, as notices without ciphertext. */
	sealedFor(username: string, limit: number): Promise<SealedNotice[]>;
	/** The locked envelopes `username` sent, soonest unlock first. */
	lockedFrom(username: string, limit: number): Promise<StoredEnvelope[]>;
	/** Locked envelopes due at or before `until`, soonest first (the scheduler's refill). */
	lockedDueBy(until: number, limit: number): Promise<StoredEnvelope[]>;
	/**
	 * locked → released, moving the envelope to its release time in the recipient's sync order.
	 * Call only after winning the envelope's claim. False when it was no longer locked.
	 */
	markReleased(id: string, releasedAt: number): Promise<boolean>;
	/**
	 * markReleased for a batch, in one read and one update whatever its size. Call only after winning
	 * every envelope's claim. Returns the envelopes this call released, as released; those no longer
	 * locked are left as they are.
	 */
	releaseMany(ids: string[], releasedAt: number): Promise<StoredEnvelope[]>;
	/** locked → cancelled. Call only after winning the envelope's claim. */
	markCancelled(id: string): Promise<boolean>;
	/** Which of `ids` are addressed to `to` and deliverable, with their senders. */
	deliverable(ids: string[], to: string): Promise<{ id: string; from: string }[]>;
	/** Cancelled envelopes stored before `before` (purged after the retention period). */
	cancelledBefore(before: number, limit: number): Promise<string[]>;
	deleteMany(ids: string[]): Promise<void>;
}

const DELIVERABLE: EnvelopeState[] = ['live', 'released'];
/** Envelopes per release update: bounds how long one update holds FerretDB's write lock. */
const RELEASE_SLICE = 50;

export function envelopesRepo(models: Models): EnvelopesRepo {
	const { envelopes } = models;
	const isLocked = async (id: string) =>
		(await envelopes.findById(id, { state: 1 }).lean<Pick<EnvelopeDoc, 'state'>>())?.state === 'locked';
	return {
		async insert(e) {
			try {
				await envelopes.create({
					_id: e.id,
					v: e.v,
					from: e.from,
					to: e.to,
					sentAt: e.sentAt,
					unlockAt: e.unlockAt,
					announce: e.announce,
					kind: e.kind,
					nonce: e.nonce,
					ciphertext: e.ciphertext,
					signature: e.signature,
					state: e.state,
					storedAt: e.storedAt,
					releasedAt: e.releasedAt,
					syncAt: syncKeyTime(e.syncKey),
				});
				return true;
			} catch (error) {
				if (isDuplicateKey(error)) return false;
				throw error;
			}
		},
		async get(id) {
			const doc = await envelopes.findById(id).lean<EnvelopeDoc>();
			return doc ? toStoredEnvelope(doc) : null;
		},
		async getMany(ids) {
			if (ids.length === 0) return [];
			const docs = await envelopes.find({ _id: { $in: ids } }).lean<EnvelopeDoc[]>();
			return docs.map(toStoredEnvelope);
		},
		async page(username, after, limit) {
			const cursor = after === null ? null : parseSyncKey(after);
			// After (at, id) in (syncAt, _id) order: the same order as the syncKey text.
			const since = cursor
				? { $or: [{ syncAt: { $gt: cursor.at } }, { syncAt: cursor.at, _id: { $gt: cursor.id } }] }
				: {};
			const order = { syncAt: 1, _id: 1 } as const;
			// Two indexed queries ({to, syncAt, _id} and {from, syncAt, _id}) merged here, instead of one $or.
			const [received, sent] = await Promise.all([
				envelopes
					.find({ to: username, state: { $in: DELIVERABLE }, ...since })
					.sort(order)
					.limit(limit + 1)
					.lean<EnvelopeDoc[]>(),
				envelopes
					.find({ from: username, ...since })
					.sort(order)
					.limit(limit + 1)
					.lean<EnvelopeDoc[]>(),
			]);
			const byId = new Map<string, EnvelopeDoc>();
			for (const doc of [...received, ...sent]) byId.set(doc._id, doc);
			const merged = [...byId.values()].sort((a, b) =>
				a.syncAt !== b.syncAt ? a.syncAt - b.syncAt : a._id < b._id ? -1 : a._id > b._id ? 1 : 0,
			);
			return { envelopes: merged.slice(0, limit).map(toStoredEnvelope), more: merged.length > limit };
		},
		async sealedFor(username, limit) {
			const docs = await envelopes
				.find({ to: username, state: 'locked', announce: true })
				.sort({ unlockAt: 1 })
				.limit(limit)
				.lean<EnvelopeDoc[]>();
			return docs.map((d) => ({
				id: d._id,
				from: d.from,
				to: d.to,
				sentAt: d.sentAt,
				unlockAt: d.unlockAt ?? 0,
			}));
		},
		async lockedFrom(username, limit) {
			const docs = await envelopes
				.find({ from: username, state: 'locked' })
				.sort({ unlockAt: 1 })
				.limit(limit)
				.lean<EnvelopeDoc[]>();
			return docs.map(toStoredEnvelope);
		},
		async lockedDueBy(until, limit) {
			const docs = await envelopes
				.find({ state: 'locked', unlockAt: { $lte: until } })
				.sort({ unlockAt: 1 })
				.limit(limit)
				.lean<EnvelopeDoc[]>();
			return docs.map(toStoredEnvelope);
		},
		// The claim makes the caller the only writer, so the state is read first and the update filters
		// on _id alone: the one filter FerretDB's SQLite backend pushes down (any other reads every document).
		async markReleased(id, releasedAt) {
			if (!(await isLocked(id))) return false;
			const result = await envelopes.updateOne(
				{ _id: id },
				{ $set: { state: 'released', releasedAt, syncAt: releasedAt } },
			);
			return result.modifiedCount > 0;
		},
		// One read and one update for the whole batch: each filter scans the table once on FerretDB's
		// SQLite backend, so a batch costs two scans instead of two per envelope.
		async releaseMany(ids, releasedAt) {
			if (ids.length === 0) return [];
			const locked = await envelopes.find({ _id: { $in: ids }, state: 'locked' }).lean<EnvelopeDoc[]>();
			if (locked.length === 0) return [];
			const lockedIds = locked.map((d) => d._id);
			// In slices: FerretDB's SQLite backend writes each matched document in turn and holds the
			// database's write lock meanwhile, so one long update would fail other writers (SQLITE_BUSY).
			let modified = 0;
			for (let i = 0; i < lockedIds.length; i += RELEASE_SLICE) {
				const result = await envelopes.updateMany(
					{ _id: { $in: lockedIds.slice(i, i + RELEASE_SLICE) }, state: 'locked' },
					{ $set: { state: 'released', releasedAt, syncAt: releasedAt } },
				);
				modified += result.modifiedCount;
			}
			if (modified === locked.length) {
				return locked.map((d) =>
					toStoredEnvelope({ ...d, state: 'released', releasedAt, syncAt: releasedAt }),
				);
			}
			// Fewer changed than were locked (the caller's claims should prevent it): say only what this call did.
			const after = await envelopes.find({ _id: { $in: lockedIds } }).lean<EnvelopeDoc[]>();
			return after.filter((d) => d.state === 'released' && d.releasedAt === releasedAt).map(toStoredEnvelope);
		},
		async markCancelled(id) {
			if (!(await isLocked(id))) return false;
			const result = await envelopes.updateOne({ _id: id }, { $set: { state: 'cancelled' } });
			return result.modifiedCount > 0;
		},
		async deliverable(ids, to) {
			if (ids.length === 0) return [];
			const docs = await envelopes
				.find({ _id: { $in: ids }, to, state: { $in: DELIVERABLE } }, { _id: 1, from: 1 })
				.lean<Pick<EnvelopeDoc, '_id' | 'from'>[]>();
			return docs.map((d) => ({ id: d._id, from: d.from }));
		},
		async cancelledBefore(before, limit) {
			const docs = await envelopes
				.find({ state: 'cancelled', storedAt: { $lt: before } }, { _id: 1 })
				.limit(limit)
				.lean<Pick<EnvelopeDoc, '_id'>[]>();
			return docs.map((d) => d._id);
		},
		async deleteMany(ids) {
			if (ids.length > 0) await envelopes.deleteMany({ _id: { $in: ids } });
		},
	};
}

/** Document → protocol type, field by field: nothing the database adds leaks into a reply. */
export function toStoredEnvelope(doc: EnvelopeDoc): StoredEnvelope {
	return {
		v: 1,
		id: doc._id,
		from: doc.from,
		to: doc.to,
		sentAt: doc.sentAt,
		unlockAt: doc.unlockAt ?? null,
		announce: doc.announce,
		kind: doc.kind,
		nonce: doc.nonce,
		ciphertext: doc.ciphertext,
		signature: doc.signature,
		state: doc.state,
		storedAt: doc.storedAt,
		releasedAt: doc.releasedAt ?? null,
		syncKey: syncKeyOf(doc.syncAt, doc._id),
	};
}
