import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDatabase, type DatabaseKind } from '../../server/db/embedded';
import { openStore, type Store } from '../../server/store';
import { HubApi, connectHub, createAccount, type Account, type HubSocket } from '../../src/lib/sdk';
import { connected, syncOnConnect } from './load';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PASSWORD = 'bench password, not secret';

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

export interface BenchHubProcess {
	url: string;
	/** The hub process's pid (its RSS is read from /proc). */
	pid: number;
	dbKind: DatabaseKind;
	/** The bench's own connection to the hub's database, to check outcomes (never the hub's). */
	store: Store;
	close(): Promise<void>;
}

const SERVER_START_TIMEOUT_MS = 60_000;

export interface ServerProcess {
	url: string;
	pid: number;
	/** SIGTERM, then waits for the exit. */
	stop(): Promise<void>;
}

/**
 * Runs `script` (TypeScript, through tsx) in a child process and resolves with the URL it prints
 * after "running at"; the rest of its output goes on to this process's output.
 */
export async function spawnServer(
	script: string,
	env: Record<string, string>,
	nodeArgs: string[] = [],
): Promise<ServerProcess> {
	const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(ROOT, script)], {
		cwd: ROOT,
		env: { ...process.env, ...env },
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	const exited = new Promise<void>((done) => child.once('exit', () => done()));
	const stop = async () => {
		if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
		await exited;
	};
	try {
		const url = await new Promise<string>((done, fail) => {
			let output = '';
			const timer = setTimeout(
				() => fail(new Error(`${script} did not start:\n${output}`)),
				SERVER_START_TIMEOUT_MS,
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
				fail(new Error(`${script} exited (${code}) before it started:\n${output}`));
			});
		});
		// Its warnings and errors (JSON lines) go on to this process's output.
		child.stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk));
		return { url, pid: child.pid ?? 0, stop };
	} catch (error) {
		await stop();
		throw error;
	}
}

/**
 * A database and `server/main.ts` composed as in production, in a child process of its own, so
 * the clients' work in this process does not delay the hub. `nodeArgs` go to the hub's node
 * (e.g. `--cpu-prof`).
 */
export function startBenchHubProcess(
	name: string,
	mongodbUri: string | undefined,
	nodeArgs: string[] = [],
): Promise<BenchHubProcess> {
	return withBenchDatabase(name, mongodbUri, async (db, cleanups, close) => {
		const hub = await spawnServer(
			'server/main.ts',
			{ ...benchEnv(db.dataDir), MONGODB_URI: db.uri },
			nodeArgs,
		);
		cleanups.push(hub.stop);
		const store = await openStore(db.uri);
		cleanups.push(() => store.close());
		return { url: hub.url, pid: hub.pid, dbKind: db.kind, store, close };
	});
}

/** The bare Socket.IO relay (bench/bare-relay-server.ts) in a child process, like the hub. */
export function startBareRelayProcess(): Promise<ServerProcess> {
	return spawnServer('bench/bare-relay-server.ts', {});
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
		await syncOnConnect(socket);
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
