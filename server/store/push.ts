import { Schema, type Connection, type Model } from 'mongoose';

/** One device's Web Push subscription: the session is its _id, so a device has at most one. */
export interface PushSubscriptionRecord {
	sessionId: string;
	username: string;
	/** The push service's URL for this browser: a capability, never logged whole. */
	endpoint: string;
	/** The browser's P-256 public key and auth secret (RFC 8291), base64url. */
	p256dh: string;
	auth: string;
	createdAt: number;
}

interface PushSubscriptionDoc {
	_id: string;
	username: string;
	endpoint: string;
	p256dh: string;
	auth: string;
	createdAt: number;
}

export interface PushRepo {
	/** Sets the session's subscription, replacing the one it had (a browser may renew it). */
	put(record: PushSubscriptionRecord): Promise<void>;
	/** True when the session had a subscription. */
	delete(sessionId: string): Promise<boolean>;
	/** Deletes the session's subscription only while it is still this endpoint (a renewal may have replaced it). */
	deleteEndpoint(sessionId: string, endpoint: string): Promise<void>;
	deleteMany(sessionIds: string[]): Promise<void>;
	deleteByUser(username: string): Promise<void>;
	has(sessionId: string): Promise<boolean>;
	/** Every subscription of a user: one per device at most, so a handful. */
	listByUser(username: string): Promise<PushSubscriptionRecord[]>;
}

const schema = new Schema<PushSubscriptionDoc>(
	{
		_id: { type: String, required: true },
		username: { type: String, required: true },
		endpoint: { type: String, required: true },
		p256dh: { type: String, required: true },
		auth: { type: String, required: true },
		createdAt: { type: Number, required: true },
	},
	{ versionKey: false, strict: true, minimize: false, collection: 'push_subscriptions' },
);
schema.index({ username: 1 });

function toRecord(doc: PushSubscriptionDoc): PushSubscriptionRecord {
	return {
		sessionId: doc._id,
		username: doc.username,
		endpoint: doc.endpoint,
		p256dh: doc.p256dh,
		auth: doc.auth,
		createdAt: doc.createdAt,
	};
}

/** Its own model on the store's connection: one document per device, written by that device only. */
export async function pushRepo(conn: Connection): Promise<PushRepo> {
	const model: Model<PushSubscriptionDoc> = conn.model<PushSubscriptionDoc>('PushSubscription', schema);
	await model.init();
	return {
		async put(record) {
			await model.updateOne(
				{ _id: record.sessionId },
				{
					$set: {
						username: record.username,
						endpoint: record.endpoint,
						p256dh: record.p256dh,
						auth: record.auth,
						createdAt: record.createdAt,
					},
				},
				{ upsert: true },
			);
		},
		async delete(sessionId) {
			const result = await model.deleteOne({ _id: sessionId });
			return result.deletedCount === 1;
		},
		async deleteEndpoint(sessionId, endpoint) {
			await model.deleteOne({ _id: sessionId, endpoint });
		},
		async deleteMany(sessionIds) {
			if (sessionIds.length > 0) await model.deleteMany({ _id: { $in: sessionIds } });
		},
		async deleteByUser(username) {
			await model.deleteMany({ username });
		},
		async has(sessionId) {
			return (await model.exists({ _id: sessionId })) !== null;
		},
		async listByUser(username) {
			const docs = await model.find({ username }).lean<PushSubscriptionDoc[]>();
			return docs.map(toRecord);
		},
	};
}
