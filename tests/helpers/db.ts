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
	// As small a pool as the hub's: the embedded FerretDB deadlocks past its own (server/db/embedded.ts).
	return mongoose.createConnection(mongoUri, { maxPoolSize: 10 }).asPromise();
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

/** A command the hub sent to its database, as the driver's command monitoring saw it. */
export interface SeenCommand {
	name: string;
	collection: string;
	filter: Record<string, unknown>;
	sort?: Record<string, unknown>;
}

const READS: Record<string, (command: Record<string, unknown>) => SeenCommand[]> = {
	find: (c) => [{ name: 'find', collection: String(c.find), filter: asDoc(c.filter), sort: asDoc(c.sort) }],
	count: (c) => [{ name: 'count', collection: String(c.count), filter: asDoc(c.query) }],
	delete: (c) =>
		(c.deletes as { q: unknown }[]).map((d) => ({
			name: 'delete',
			collection: String(c.delete),
			filter: asDoc(d.q),
		})),
	update: (c) =>
		(c.updates as { q: unknown }[]).map((u) => ({
			name: 'update',
			collection: String(c.update),
			filter: asDoc(u.q),
		})),
};

function asDoc(value: unknown): Record<string, unknown> {
	return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/**
 * Records every read, update and delete that any connection in this process sends to `dbName`
 * (a hub in this process; its URI must carry `monitorCommands=true`), until `stop`.
 */
export function watchCommands(dbName: string): { seen: SeenCommand[]; stop(): void } {
	const seen: SeenCommand[] = [];
	const listener = (event: {
		databaseName: string;
		commandName: string;
		command: Record<string, unknown>;
	}) => {
		const read = READS[event.commandName];
		if (event.databaseName === dbName && read) seen.push(...read(event.command));
	};
	// The default connection (never opened here) has no client.
	const clients = mongoose.connections.flatMap((conn) => (conn.readyState === 1 ? [conn.getClient()] : []));
	for (const client of clients) client.on('commandStarted', listener);
	return {
		seen,
		stop: () => {
			for (const client of clients) client.off('commandStarted', listener);
		},
	};
}
