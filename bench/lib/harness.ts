import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../server/config';
import { startDatabase, type DatabaseKind } from '../../server/db/embedded';
import { createHub, type Hub } from '../../server/hub';
import { timelockHooks } from '../../server/services/timelock';
import { openStore, type Store } from '../../server/store';
import { HubApi, connectHub, createAccount, type Account, type HubSocket } from '../../src/lib/sdk';
import { startHubProcess } from '../../tests/helpers/process';
import { waitForConnect } from '../../tests/helpers/users';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PASSWORD = 'bench password, not secret';

export interface BenchHub {
	hub: Hub;
	url: string;
	dbKind: DatabaseKind;
	/** Stops the hub, then the database, and removes the temporary data folder. */
	close(): Promise<void>;
}

/** The hub's settings in a bench: loopback, a free port, quiet logs, no sign-in or send limits. */
function benchEnv(dataDir: string): Record<string, string> {
	return {
		PORT: '0',
		HOST: '127.0.0.1',
		NODE_ENV: 'production',
		LOG_LEVEL: 'warn',
		DATA_DIR: dataDir,
		AUTH_RATE_PER_IP_PER_MINUTE: '1000000',
		AUTH_RATE_PER_USER_PER_MINUTE: '1000000',
		SEND_RATE_PER_SECOND: '1000000',
		SEND_BURST: '1000000',
		QUOTA_UNDELIVERED_PER_RECIPIENT: '100000000',
		QUOTA_STORED_BYTES_PER_USER: String(2 ** 50),
	};
}

/**
 * Runs `build` with a database (MONGODB_URI given, else the embedded one in a temporary folder)
 * and a list of cleanups it may add to; on failure, cleans up and throws.
 */
async function withBenchDatabase<T>(
	name: string,
	mongodbUri: string | undefined,
	build: (
		db: { uri: string; kind: DatabaseKind; dataDir: string },
		cleanups: (() => Promise<void>)[],
		close: () => Promise<void>,
	) => Promise<T>,
): Promise<T> {
	const dataDir = mkdtempSync(join(tmpdir(), `hourglass-${name}-`));
	const cleanups: (() => Promise<void>)[] = [async () => rmSync(dataDir, { recursive: true, force: true })];
	const close = async () => {
		for (const cleanup of cleanups.reverse()) await cleanup();
	};
	try {
		const db = await startDatabase({
			mongodbUri,
			dataDir,
			rootDir: ROOT,
			dbName: `${name.replaceAll('-', '_')}_${Date.now().toString(36)}`,
		});
		cleanups.push(() => db.stop());
		return await build({ uri: db.uri, kind: db.kind, dataDir }, cleanups, close);
	} catch (error) {
		await close();
		throw error;
	}
}

/**
 * A database and a hub composed as production composes it, time-lock scheduler included, in this
 * process, on a free port of 127.0.0.1.
 */
export function startBenchHub(name: string, mongodbUri: string | undefined): Promise<BenchHub> {
	return withBenchDatabase(name, mongodbUri, async (db, cleanups, close) => {
		const config = loadConfig(benchEnv(db.dataDir));
		const hub = await createHub({ config, mongoUri: db.uri, hooks: timelockHooks() });
		cleanups.push(() => hub.stop());
		const { url } = await hub.start();
		return { hub, url, dbKind: db.kind, close };
	});
}

export interface BenchHubProcess {
	url: string;
	dbKind: DatabaseKind;
	/** The bench's own connection to the hub's database, to check outcomes (never the hub's). */
	store: Store;
	close(): Promise<void>;
}

/**
 * Like startBenchHub, but the hub is `server/main.ts` in a child process of its own, as in
 * production, so the clients' work in this process does not delay the hub's timers. `env` adds to
 * or overrides the bench settings.
 */
export function startBenchHubProcess(
	name: string,
	mongodbUri: string | undefined,
	env: Record<string, string> = {},
): Promise<BenchHubProcess> {
	return withBenchDatabase(name, mongodbUri, async (db, cleanups, close) => {
		const hub = await startHubProcess(
			{ ...benchEnv(db.dataDir), ...env, MONGODB_URI: db.uri },
			{ forwardOutput: true },
		);
		cleanups.push(() => hub.stop());
		const store = await openStore(db.uri);
		cleanups.push(() => store.close());
		return { url: hub.url, dbKind: db.kind, store, close };
	});
}

export interface Pair {
	sender: Account;
	recipient: Account;
	senderSocket: HubSocket;
	recipientSocket: HubSocket;
}

/** Two accounts per pair (`<prefix>s<i>-<runId>` and `<prefix>r<i>-<runId>`), each with a signed-in socket. */
export async function makePairs(url: string, count: number, prefix: string, runId: string): Promise<Pair[]> {
	const signUp = async (username: string) => {
		const api = new HubApi({ baseUrl: url, keepCookies: true });
		const account = await createAccount(api, username, PASSWORD);
		const socket = await waitForConnect(connectHub(url, { cookie: api.cookieHeader() }));
		return { account, socket };
	};
	const pairs: Pair[] = [];
	for (let i = 0; i < count; i++) {
		const [s, r] = await Promise.all([signUp(`${prefix}s${i}-${runId}`), signUp(`${prefix}r${i}-${runId}`)]);
		pairs.push({
			sender: s.account,
			recipient: r.account,
			senderSocket: s.socket,
			recipientSocket: r.socket,
		});
	}
	return pairs;
}
