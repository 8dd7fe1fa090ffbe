import { randomUUID } from 'node:crypto';
import type { Models, ThrottleEventDoc } from './models';

/**
 * Events counted under a key (a failed sign-in for an account, a request from an address in one
 * window), shared by every hub. Implemented here over the database, and over Redis when the hubs
 * have one (server/services/throttle/redis-counters.ts).
 */
export interface ThrottleCounters {
	/** Records one event under `key`, forgotten at `expiresAt`; resolves with its id. */
	add(key: string, at: number, expiresAt: number): Promise<string>;
	/** Events recorded under `key` (some may have expired and not been swept yet). */
	count(key: string): Promise<number>;
	/** The events recorded under `key`: their ids and times. */
	events(key: string): Promise<{ id: string; at: number }[]>;
	/** Takes back one event. */
	remove(key: string, id: string): Promise<void>;
	/** Forgets every event under `key`. */
	clear(key: string): Promise<void>;
	/** Deletes the events expired at `now`; returns how many. */
	sweep(now: number): Promise<number>;
}

/**
 * One document per event and no counter document (DESIGN.md: FerretDB can lose one of two
 * concurrent updates to one document). Every read is an equality on `key`, which the embedded
 * engine sends to PostgreSQL and answers from an index; only the sweep reads a range.
 */
export function throttleRepo(models: Models): ThrottleCounters {
	return {
		async add(key, at, expiresAt) {
			const id = randomUUID();
			await models.throttle.create({ _id: id, key, at, expiresAt });
			return id;
		},
		count(key) {
			return models.throttle.countDocuments({ key });
		},
		async events(key) {
			const docs = await models.throttle
				.find({ key }, { _id: 1, at: 1 })
				.lean<Pick<ThrottleEventDoc, '_id' | 'at'>[]>();
			return docs.map((doc) => ({ id: doc._id, at: doc.at }));
		},
		async remove(_key, id) {
			await models.throttle.deleteOne({ _id: id });
		},
		async clear(key) {
			await models.throttle.deleteMany({ key });
		},
		async sweep(now) {
			const result = await models.throttle.deleteMany({ expiresAt: { $lte: now } });
			return result.deletedCount;
		},
	};
}
