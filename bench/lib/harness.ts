import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDatabase, type DatabaseKind } from '../../server/db/embedded';
import { openStore, type Store } from '../../server/store';
import { HubApi, connectHub, createAccount, type Account, type HubSocket } from '../../src/lib/sdk';
import { startServerProcess, type HubProcess } from '../../tests/helpers/hub';
import { startRedis } from '../../tests/helpers/redis';
import { waitForConnect } from '../../tests/helpers/users';
import { syncOnConnect } from './load';
import { fixed } from './stats';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PASSWORD = 'bench password, not secret';

/** The hub's settings in a bench: loopback, a free port, quiet logs, no sign-in throttling. */
function benchEnv(dataDir: string): Record<string, string> {
	return {
		PORT: '0',
		HOST: '127.0.0.1',
		NODE_ENV: 'production',
		LOG_LEVEL: 'warn',
		DATA_DIR: dataDir,
		AUTH_RATE_PER_IP_PER_MINUTE: '1000000',
		REGISTER_RATE_PER_IP_PER_HOUR: '1000000',
		REGISTER_RATE_PER_MINUTE: '1000000',
		LOCKOUT_ACCOUNT_FAILURES: '1000000',
		LOCKOUT_SOURCE_FAILURES: '1000000',
		// A bench's few users send far faster than people do: the per-user fairness limits are lifted
		// (bench/fairness.ts sets its own).
		SEND_RATE_PER_SECOND: '1000000',
		SEND_BURST: '1000000',
		QUOTA_UNDELIVERED_PER_RECIPIENT: '100000000',
		QUOTA_STORED_BYTES_PER_USER: String(2 ** 50),
		// Some benches' users write to strangers (a pair of makePairs are contacts): the
		// message-request caps are lifted too.
		REQUEST_ENVELOPES_MAX: '100000000',
		REQUEST_BYTES_MAX: String(2 ** 50),
		METRICS_TOKEN: BENCH_METRICS_TOKEN,
	};
}

/** The operator token of bench hubs, so a bench reads their /metrics as an operator would. */
const BENCH_METRICS_TOKEN = 'bench-operator-metrics-token';

/** The database commands a bench hub has sent so far, by `command collection` (its /metrics). */
export async function databaseCommands(hubUrl: string): Promise<Map<string, number>> {
	const counts = new Map<string, number>();
	for (const line of await metricLines(hubUrl)) {
		const match = /^hourglass_database_commands_total\{command="([^"]*)",collection="([^"]*)"\} (\d+)/.exec(
			line,
		);
		if (match) counts.set(`${match[1]} ${match[2]}`.trim(), Number(match[3]));
	}
	return counts;
}

/** The value of an unlabelled counter or gauge on a bench hub's /metrics, 0 when it has none. */
export async function metricValue(hubUrl: string, name: string): Promise<number> {
	const line = (await metricLines(hubUrl)).find((l) => l.startsWith(`${name} `));
	return line ? Number(line.slice(name.length + 1)) : 0;
}

async function metricLines(hubUrl: string): Promise<string[]> {
	const response = await fetch(`${hubUrl}/metrics`, {
		headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` },
	});
	if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
	return (await response.text()).split('\n');
}

/**
 * A hub's `hourglass_cluster_stream_lag_seconds` buckets (upper bound in seconds → reads at or
 * under it, cumulative), added up over `hubUrls`.
 */
export async function streamLagBuckets(hubUrls: string[]): Promise<Map<number, number>> {
	const buckets = new Map<number, number>();
	for (const url of hubUrls) {
		for (const line of await metricLines(url)) {
			const match = /^hourglass_cluster_stream_lag_seconds_bucket\{le="([^"]+)"\} (\d+)/.exec(line);
			if (!match) continue;
			const le = match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]);
			buckets.set(le, (buckets.get(le) ?? 0) + Number(match[2]));
		}
	}
	return buckets;
}

/**
 * How far behind the Redis stream the hubs read between two readings of their buckets: how many
 * entries, and the bucket bound under which half and 99% of them were read.
 */
export function streamLagBetween(before: Map<number, number>, after: Map<number, number>): string {
	const bounds = [...after.keys()].sort((a, b) => a - b);
	const counts = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
	const total = counts[counts.length - 1] ?? 0;
	if (total === 0) return 'no entries read';
	const under = (share: number) => {
		const i = counts.findIndex((n) => n >= share * total);
		const le = bounds[i];
		return Number.isFinite(le) ? `≤ ${fixed(le * 1000)} ms` : `> ${fixed((bounds[i - 1] ?? 0) * 1000)} ms`;
	};
	return `${total} entries read, 50% ${under(0.5)}, 99% ${under(0.99)}`;
}

/** What each message cost in database commands between two readings, most frequent first. */
export function commandsPerMessage(
	before: Map<string, number>,
	after: Map<string, number>,
	messages: number,
): string {
	const rows = [...after]
		.map(([key, count]) => [key, (count - (before.get(key) ?? 0)) / messages] as const)
		.filter(([, perMessage]) => perMessage >= 0.005)
		.sort((a, b) => b[1] - a[1]);
	const total = rows.reduce((sum, [, perMessage]) => sum + perMessage, 0);
	return `${total.toFixed(2)} (${rows.map(([key, perMessage]) => `${key} ${perMessage.toFixed(2)}`).join(', ')})`;
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

export type { HubProcess } from '../../tests/helpers/hub';

export interface HubProcessOptions {
	/** Given to each hub's node (e.g. `--cpu-prof`). */
	nodeArgs?: string[];
	/** Settings over the bench's defaults. */
	env?: Record<string, string>;
}

export interface BenchCluster {
	hubs: HubProcess[];
	dbKind: DatabaseKind;
	/** The bench's own connection to the hubs' database, to check outcomes (never a hub's). */
	store: Store;
	close(): Promise<void>;
}

/**
 * A database and `count` hub processes (`server/main.ts`) over it, as production runs them, so
 * the clients' work in this process does not delay the hubs; with more than one, they share a
 * Redis (Debian's redis-server, started here) through the adapter.
 */
export function startBenchCluster(
	name: string,
	mongodbUri: string | undefined,
	count: number,
	{ nodeArgs = [], env: extra = {} }: HubProcessOptions = {},
): Promise<BenchCluster> {
	return withBenchDatabase(name, mongodbUri, async (db, cleanups, close) => {
		const env: Record<string, string> = { ...benchEnv(db.dataDir), ...extra, MONGODB_URI: db.uri };
		if (count > 1) {
			const redis = await startRedis();
			cleanups.push(() => redis.stop());
			env.REDIS_URL = redis.url;
		}
		const hubs: HubProcess[] = [];
		cleanups.push(async () => {
			for (const hub of hubs) await hub.kill();
		});
		for (let i = 0; i < count; i++) {
			hubs.push(await startServerProcess('server/main.ts', { env, nodeArgs, echo: true }));
		}
		const store = await openStore(db.uri);
		cleanups.push(() => store.close());
		return { hubs, dbKind: db.kind, store, close };
	});
}

export interface BenchHubProcess {
	url: string;
	pid: number;
	dbKind: DatabaseKind;
	/** The bench's own connection to the hub's database, to check outcomes (never the hub's). */
	store: Store;
	close(): Promise<void>;
}

/** One hub process over a database of its own (see startBenchCluster). */
export async function startBenchHubProcess(
	name: string,
	mongodbUri: string | undefined,
	options: HubProcessOptions = {},
): Promise<BenchHubProcess> {
	const { hubs, dbKind, store, close } = await startBenchCluster(name, mongodbUri, 1, options);
	return { url: hubs[0].url, pid: hubs[0].pid, dbKind, store, close };
}

/** The bare Socket.IO relay (bench/bare-relay-server.ts) in a child process, like the hub. */
export function startBareRelayProcess(): Promise<HubProcess> {
	return startServerProcess('bench/bare-relay-server.ts', { echo: true });
}

export interface Pair {
	sender: Account;
	recipient: Account;
	senderSocket: HubSocket;
	recipientSocket: HubSocket;
	/** The sender's session cookie, to connect it again (to another hub). */
	senderCookie: string | undefined;
}

/**
 * Two accounts per pair (`<prefix>s<i>-<runId>` and `<prefix>r<i>-<runId>`), each other's contacts,
 * each with a signed-in socket that synced on connect, as the PWA does: senders on `url`, recipients on `recipientUrls`
 * in turn (`url` when none are given).
 */
export async function makePairs(
	url: string,
	count: number,
	prefix: string,
	runId: string,
	recipientUrls: string[] = [url],
): Promise<Pair[]> {
	const signUp = async (username: string, socketUrl: string) => {
		const api = new HubApi({ baseUrl: url, keepCookies: true });
		const account = await createAccount(api, username, PASSWORD);
		const cookie = api.cookieHeader();
		const socket = await waitForConnect(connectHub(socketUrl, { cookie }));
		await syncOnConnect(socket);
		return { account, socket, cookie, api };
	};
	const pairs: Pair[] = [];
	for (let i = 0; i < count; i++) {
		const [s, r] = await Promise.all([
			signUp(`${prefix}s${i}-${runId}`, url),
			signUp(`${prefix}r${i}-${runId}`, recipientUrls[i % recipientUrls.length]),
		]);
		// People who write to each other are each other's contacts (a first message is a request
		// until the recipient accepts it): the sends take the contacts' path, as in a conversation.
		await Promise.all([
			s.api.setContact(r.account.username, 'accepted'),
			r.api.setContact(s.account.username, 'accepted'),
		]);
		pairs.push({
			sender: s.account,
			recipient: r.account,
			senderSocket: s.socket,
			recipientSocket: r.socket,
			senderCookie: s.cookie,
		});
	}
	return pairs;
}
