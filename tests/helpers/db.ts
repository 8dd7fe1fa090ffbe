import mongoose, { type Connection, type mongo } from 'mongoose';

/**
 * The one door for tests to the database under a hub (lint keeps mongoose inside server/store and
 * here): for faults the protocol cannot cause and checks of what must not be stored.
 */
export type TestDb = Connection;

/** A collection as the driver gives it (to test the store's own driver-level pieces). */
export type DriverCollection<T extends mongo.Document> = mongo.Collection<T>;

/** A direct connection to a test hub's database, to check what the hub really stored. */
export async function openTestDb(mongoUri: string): Promise<TestDb> {
	return mongoose.createConnection(mongoUri).asPromise();
}

/** Every document of every collection, as JSON text (for "this must not be stored anywhere" checks). */
export async function dumpDatabase(conn: TestDb): Promise<string> {
	const db = conn.db;
	if (!db) throw new Error('dumpDatabase: not connected');
	const parts: string[] = [];
	for (const { name } of await db.listCollections().toArray()) {
		const docs = await db.collection(name).find({}).toArray();
		parts.push(`${name}: ${JSON.stringify(docs)}`);
	}
	return parts.join('\n');
}
