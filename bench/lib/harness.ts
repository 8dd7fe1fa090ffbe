import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../server/config';
import { startDatabase, type DatabaseKind } from '../../server/db/embedded';
import { createHub, type Hub } from '../../server/hub';
import { timelockHooks } from '../../server/services/timelock';
import { openStore, type Store } from '../../server/store';
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

/** The hub's settings in a bench: loopback, a free port, quiet logs, no sign-in rate limit. */
function benchEnv(dataDir: string): Record<string, string> {
	return {
		PORT: '0',
		HOST: '127.0.0.1',
		NODE_ENV: 'production',
		LOG_LEVEL: 'warn',
		DATA_DIR: dataDir,
		AUTH_RATE_PER_IP_PER_MINUTE: '1000000',
		AUTH_RATE_PER_USER_PER_MINUTE: '1000000',
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
	// Reachable by the user PostgreSQL runs as when the bench runs as root (mkdtemp makes it 0700).
	chmodSync(dataDir, 0o755);
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
			postgresBinDir: process.env.POSTGRES_BIN_DIR,
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

const HUB_START_TIMEOUT_MS = 60_000;

/**
 * Like startBenchHub, but the hub is `server/main.ts` in a child process of its own, as in
 * production, so the clients' work in this process does not delay the hub's timers.
 */
export function startBenchHubProcess(name: string, mongodbUri: string | undefined): Promise<BenchHubProcess> {
	return withBenchDatabase(name, mongodbUri, async (db, cleanups, close) => {
		const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server/main.ts')], {
			cwd: ROOT,
			env: { ...process.env, ...benchEnv(db.dataDir), MONGODB_URI: db.uri },
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		const exited = new Promise<void>((done) => child.once('exit', () => done()));
		cleanups.push(async () => {
			if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
			await exited;
		});
		const url = await new Promise<string>((done, fail) => {
			let output = '';
			const timer = setTimeout(
				() => fail(new Error(`the hub did not start:\n${output}`)),
				HUB_START_TIMEOUT_MS,
			);
			child.stdout.on('data', (chunk: Buffer) => {
				output += chunk.toString();
				const match = /running at (\S+)/.exec(output);
				if (match) {
					clearTimeout(timer);
					done(match[1]);
				} else if (output.length > 100_000) {
					output = output.slice(-10_000);
				}
			});
			child.once('exit', (code) => {
				clearTimeout(timer);
				fail(new Error(`the hub exited (${code}) before it started:\n${output}`));
			});
		});
		// Its warnings and errors (JSON lines) go on to this process's output.
		child.stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk));
		const store = await openStore(db.uri);
		cleanups.push(() => store.close());
		return { url, dbKind: db.kind, store, close };
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
