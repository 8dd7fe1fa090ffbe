import type { Models, SessionDoc } from './models';

export interface SessionRecord {
	/** sha256 of the cookie's token, base64url. Also names the socket room of the session. */
	id: string;
	username: string;
	createdAt: number;
	lastSeenAt: number;
	expiresAt: number;
	trusted: boolean;
	userAgent: string;
	/** The network the session signed in from (an address prefix such as `203.0.0.0/16`), or null. */
	place: string | null;
}

export interface SessionsRepo {
	insert(session: SessionRecord): Promise<void>;
	get(id: string): Promise<SessionRecord | null>;
	/**
	 * Slides the expiry of a session that is still live at `lastSeenAt`; false when there is no such
	 * session (ended, or expired and not swept yet), which a touch must never bring back. Last write
	 * wins, which is right for a timestamp.
	 */
	touch(id: string, lastSeenAt: number, expiresAt: number): Promise<boolean>;
	/** Every session of a user (a handful: one per signed-in device). */
	listByUser(username: string): Promise<SessionRecord[]>;
	delete(id: string): Promise<boolean>;
	/** Deletes those of `ids` that belong to `username`; returns how many went. */
	deleteOwned(username: string, ids: string[]): Promise<number>;
	/** Ids of sessions whose expiry has passed (the sweep ends them). */
	expired(now: number, limit: number): Promise<string[]>;
	deleteMany(ids: string[]): Promise<void>;
	/** Ids of every session of a user. */
	idsOfUser(username: string): Promise<string[]>;
}

function toRecord(doc: SessionDoc): SessionRecord {
	return {
		id: doc._id,
		username: doc.username,
		createdAt: doc.createdAt,
		lastSeenAt: doc.lastSeenAt,
		expiresAt: doc.expiresAt,
		trusted: doc.trusted,
		userAgent: doc.userAgent,
		place: doc.place ?? null,
	};
}

export function sessionsRepo(models: Models): SessionsRepo {
	return {
		async insert(session) {
			await models.sessions.create({
				_id: session.id,
				username: session.username,
				createdAt: session.createdAt,
				lastSeenAt: session.lastSeenAt,
				expiresAt: session.expiresAt,
				trusted: session.trusted,
				userAgent: session.userAgent,
				place: session.place,
			});
		},
		async get(id) {
			const doc = await models.sessions.findById(id).lean<SessionDoc>();
			return doc ? toRecord(doc) : null;
		},
		async touch(id, lastSeenAt, expiresAt) {
			// The _id equality goes first: the embedded engine sends it to its backend, the range stays on one document.
			const result = await models.sessions.updateOne(
				{ _id: id, expiresAt: { $gt: lastSeenAt } },
				{ $set: { lastSeenAt, expiresAt } },
			);
			return result.matchedCount > 0;
		},
		async listByUser(username) {
			const docs = await models.sessions.find({ username }).lean<SessionDoc[]>();
			return docs.map(toRecord);
		},
		async delete(id) {
			const result = await models.sessions.deleteOne({ _id: id });
			return result.deletedCount > 0;
		},
		async deleteOwned(username, ids) {
			if (ids.length === 0) return 0;
			const result = await models.sessions.deleteMany({ username, _id: { $in: ids } });
			return result.deletedCount;
		},
		async expired(now, limit) {
			const docs = await models.sessions
				.find({ expiresAt: { $lte: now } }, { _id: 1 })
				.sort({ expiresAt: 1 })
				.limit(limit)
				.lean<Pick<SessionDoc, '_id'>[]>();
			return docs.map((d) => d._id);
		},
		async idsOfUser(username) {
			const docs = await models.sessions.find({ username }, { _id: 1 }).lean<Pick<SessionDoc, '_id'>[]>();
			return docs.map((d) => d._id);
		},
		async deleteMany(ids) {
			if (ids.length > 0) await models.sessions.deleteMany({ _id: { $in: ids } });
		},
	};
}
