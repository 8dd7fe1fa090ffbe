import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../server/config';
import { startDatabase, type DatabaseKind } from '../../server/db/embedded';
import { createHub, type Hub } from '../../server/hub';
import { timelockHooks } from '../../server/services/timelock';
import { HubApi, connectHub, createAccount, type Account, type HubSocket } from '../../src/lib/sdk';
import { connected } from './load';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PASSWORD = 'bench password, not secret';

export interface BenchHub {
	hub: Hub;
	url: string;
	dbKind: DatabaseKind;
	/** Stops the hub, then the database, and removes the temporary data folder. */
	close(): Promise<void>;
}

/**
 * A database (MONGODB_URI given, else the embedded one in a temporary folder) and a hub composed
 * as production composes it, time-lock scheduler included, on a free port of 127.0.0.1.
 */
export async function startBenchHub(name: string, mongodbUri: string | undefined): Promise<BenchHub> {
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
		const config = loadConfig({
			PORT: '0',
			HOST: '127.0.0.1',
			NODE_ENV: 'production',
			LOG_LEVEL: 'warn',
			DATA_DIR: dataDir,
			AUTH_RATE_PER_IP_PER_MINUTE: '1000000',
			AUTH_RATE_PER_USER_PER_MINUTE: '1000000',
		});
		const hub = await createHub({ config, mongoUri: db.uri, hooks: timelockHooks() });
		cleanups.push(() => hub.stop());
		const { url } = await hub.start();
		return { hub, url, dbKind: db.kind, close };
	} catch (error) {
		await close();
		throw error;
	}
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
		const socket = await connected(connectHub(url, { cookie: api.cookieHeader() }));
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
