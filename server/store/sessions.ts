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
}

export interface SessionsRepo {
	insert(session: SessionRecord): Promise<void>;
	get(id: string): Promise<SessionRecord | null>;
	/** Slides the idle expiry. Last write wins, which is right for a timestamp. */
	touch(id: string, lastSeenAt: number, expiresAt: number): Promise<void>;
	delete(id: string): Promise<boolean>;
	/** Ids of sessions whose idle expiry has passed (the sweep ends them). */
	expired(now: number, limit: number): Promise<string[]>;
	deleteMany(ids: string[]): Promise<void>;
	/** Ids of every session of a user. */
	idsOfUser(username: string): Promise<string[]>;
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
			});
		},
		async get(id) {
			const doc = await models.sessions.findById(id).lean<SessionDoc>();
			return doc
				? {
						id: doc._id,
						username: doc.username,
						createdAt: doc.createdAt,
						lastSeenAt: doc.lastSeenAt,
						expiresAt: doc.expiresAt,
						trusted: doc.trusted,
						userAgent: doc.userAgent,
					}
				: null;
		},
		async touch(id, lastSeenAt, expiresAt) {
			await models.sessions.updateOne({ _id: id }, { $set: { lastSeenAt, expiresAt } });
		},
		async delete(id) {
			const result = await models.sessions.deleteOne({ _id: id });
			return result.deletedCount > 0;
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
