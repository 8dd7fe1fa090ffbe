import type { ActivityEvent } from '../../src/lib/protocol';
import type { ActivityDoc, Models } from './models';

export type ActivityRecord = ActivityEvent & { username: string };

export interface ActivityRepo {
	insert(event: ActivityRecord): Promise<void>;
	/** A user's events newest first, older than the id `before` when given; `limit + 1` tells if more exist. */
	page(username: string, before: string | undefined, limit: number): Promise<ActivityEvent[]>;
	/** Deletes the events older than `cutoff`; returns how many went. */
	deleteBefore(cutoff: number): Promise<number>;
	deleteUser(username: string): Promise<void>;
}

function toEvent(doc: ActivityDoc): ActivityEvent {
	const event: ActivityEvent = {
		id: doc._id,
		at: doc.at,
		type: doc.type as ActivityEvent['type'],
		device: doc.device ?? null,
		place: doc.place ?? null,
	};
	if (doc.newDevice !== undefined && doc.newDevice !== null) event.newDevice = doc.newDevice;
	if (doc.reason) event.reason = doc.reason;
	if (typeof doc.count === 'number') event.count = doc.count;
	if (typeof doc.until === 'number') event.until = doc.until;
	return event;
}

export function activityRepo(models: Models): ActivityRepo {
	return {
		async insert(event) {
			const { id, ...rest } = event;
			await models.activity.create({ _id: id, ...rest });
		},
		async page(username, before, limit) {
			const filter = before === undefined ? { username } : { username, _id: { $lt: before } };
			const docs = await models.activity.find(filter).sort({ _id: -1 }).limit(limit).lean<ActivityDoc[]>();
			return docs.map(toEvent);
		},
		async deleteBefore(cutoff) {
			const result = await models.activity.deleteMany({ at: { $lt: cutoff } });
			return result.deletedCount;
		},
		async deleteUser(username) {
			await models.activity.deleteMany({ username });
		},
	};
}
