import mongoose, { type Connection } from 'mongoose';
import { activityRepo, type ActivityRepo } from './activity';
import type { Drainable } from './batch-writer';
import { contactsRepo, type ContactsRepo } from './contacts';
import { envelopesRepo, type EnvelopesRepo } from './envelopes';
import { expiriesRepo, type ExpiriesRepo } from './expiries';
import { filesRepo, type FilesRepo } from './files';
import { defineModels } from './models';
import { pushRepo, type PushRepo } from './push';
import { secondFactorsRepo, type SecondFactorsRepo } from './second-factor';
import { receiptsRepo, type ReceiptsRepo } from './receipts';
import { sessionsRepo, type SessionsRepo } from './sessions';
import { settingsRepo, type SettingsRepo } from './settings';
import { throttleRepo, type ThrottleCounters } from './throttle';
import { usageRepo, type UsageRepo } from './usage';
import { usersRepo, type UsersRepo } from './users';

export type { ActivityRecord, ActivityRepo } from './activity';
export type { ContactsRepo } from './contacts';
export type { DuePosition, EnvelopePage, EnvelopesRepo, ReleaseResult } from './envelopes';
export type { FileRecord, FilesRepo } from './files';
export type { PushRepo, PushSubscriptionRecord } from './push';
export type { ReceiptRecord, ReceiptsRepo } from './receipts';
export type { ExpiryRecord, ExpiriesRepo } from './expiries';
export type { SecondFactorRecord, SecondFactorsRepo } from './second-factor';
export type { SessionRecord, SessionsRepo } from './sessions';
export type { SettingsRepo } from './settings';
export type { ThrottleCounters } from './throttle';
export type { UsageRepo } from './usage';
export { base64urlBytes } from './usage';
export type { UserRecord, UsersRepo } from './users';
export { toUserView } from './users';

/** The hub's only door to the database. Nothing outside server/store/ sees mongoose. */
export interface Store {
	users: UsersRepo;
	sessions: SessionsRepo;
	settings: SettingsRepo;
	envelopes: EnvelopesRepo;
	receipts: ReceiptsRepo;
	/** When delivered disappearing messages are removed. */
	expiries: ExpiriesRepo;
	usage: UsageRepo;
	/** Sign-in throttling counts when the hubs have no Redis. */
	throttle: ThrottleCounters;
	/** Two-factor authentication: each user's TOTP secret and recovery codes, and the codes spent. */
	secondFactors: SecondFactorsRepo;
	/** Each user's activity log: sign-ins, failures and security changes, kept ACTIVITY_DAYS. */
	activity: ActivityRepo;
	/** How each user stands with others: contacts and blocks (message requests are the rest). */
	contacts: ContactsRepo;
	/** Files' ciphertext chunks and who may read them (server/services/files.ts). */
	files: FilesRepo;
	/** Each device's Web Push subscription (server/services/push.ts). */
	push: PushRepo;
	/** True when the database answers a ping within `timeoutMs`. */
	ping(timeoutMs?: number): Promise<boolean>;
	/**
	 * Commands sent to the database since the store opened, by command and collection
	 * (`insert envelopes`): what a message costs in round trips, read by /metrics and the benches.
	 */
	commandCounts(): ReadonlyMap<string, number>;
	close(): Promise<void>;
}

/**
 * Connections a store opens at most (the driver's default is 100). Inserts are grouped and most
 * reads are one equality each, so ten requests at once keep a hub busy; and the embedded
 * FerretDB deadlocks when its clients send as many requests at once as it has PostgreSQL
 * connections (server/db/embedded.ts), so every client of it stays well below that.
 */
export const STORE_POOL_SIZE = 10;

export async function openStore(uri: string, poolSize = STORE_POOL_SIZE): Promise<Store> {
	// Commands fail at once while disconnected instead of queueing: health and acks stay truthful.
	const conn: Connection = await mongoose
		.createConnection(uri, {
			bufferCommands: false,
			serverSelectionTimeoutMS: 10_000,
			maxPoolSize: poolSize,
			monitorCommands: true,
		})
		.asPromise();
	const commands = new Map<string, number>();
	conn.getClient().on('commandStarted', (event) => {
		const target: unknown = (event.command as Record<string, unknown>)[event.commandName];
		const key = typeof target === 'string' ? `${event.commandName} ${target}` : event.commandName;
		commands.set(key, (commands.get(key) ?? 0) + 1);
	});
	const models = await defineModels(conn);
	const writers: Drainable[] = [];
	return {
		users: usersRepo(models),
		sessions: sessionsRepo(models),
		settings: settingsRepo(models),
		envelopes: envelopesRepo(models, writers),
		receipts: receiptsRepo(models, writers),
		expiries: expiriesRepo(models),
		usage: usageRepo(models),
		throttle: throttleRepo(models),
		secondFactors: secondFactorsRepo(models),
		activity: activityRepo(models),
		contacts: contactsRepo(models),
		files: filesRepo(models),
		push: await pushRepo(conn),
		async ping(timeoutMs = 2000) {
			const db = conn.db;
			if (conn.readyState !== mongoose.ConnectionStates.connected || !db) return false;
			let timer: NodeJS.Timeout | undefined;
			const timeout = new Promise<boolean>((done) => {
				timer = setTimeout(() => done(false), timeoutMs);
			});
			try {
				return await Promise.race([db.command({ ping: 1 }).then(() => true), timeout]);
			} catch {
				return false;
			} finally {
				clearTimeout(timer);
			}
		},
		commandCounts: () => commands,
		async close() {
			// Grouped inserts still waiting in a batch have callers waiting on them: they land before the connection goes.
			await Promise.all(writers.map((writer) => writer.drain()));
			await conn.close();
		},
	};
}

const UNAVAILABLE_ERRORS = new Set([
	'MongoNetworkError',
	'MongoNetworkTimeoutError',
	'MongoServerSelectionError',
	'MongooseServerSelectionError',
	'MongoNotConnectedError',
	'MongoTopologyClosedError',
	'MongoPoolClearedError',
]);

/** True for errors that mean "the database cannot be reached" rather than a bug: reply UNAVAILABLE. */
export function isDatabaseUnavailable(error: unknown): boolean {
	if (!(error instanceof Error)) return false;
	if (UNAVAILABLE_ERRORS.has(error.name)) return true;
	// bufferCommands is off: mongoose refuses at once while the connection is closed.
	return (
		error.name === 'MongooseError' &&
		/before initial connection|connection .*closed|Connection was force closed/i.test(error.message)
	);
}
