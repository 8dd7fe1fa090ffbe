import mongoose, { type Connection } from 'mongoose';

/** A direct connection to a test hub's database, to check what the hub really stored. */
export async function openTestDb(mongoUri: string): Promise<Connection> {
	return mongoose.createConnection(mongoUri).asPromise();
}

/** Every document of every collection, as JSON text (for "this must not be stored anywhere" checks). */
export async function dumpDatabase(conn: Connection): Promise<string> {
	const db = conn.db;
	if (!db) throw new Error('dumpDatabase: not connected');
	const parts: string[] = [];
	for (const { name } of await db.listCollections().toArray()) {
		const docs = await db.collection(name).find({}).toArray();
		parts.push(`${name}: ${JSON.stringify(docs)}`);
	}
	return parts.join('\n');
}
