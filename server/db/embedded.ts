import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, portOpen } from '../net';

export type DatabaseKind = 'external' | 'mongod' | 'ferretdb';

export interface RunningDatabase {
	kind: DatabaseKind;
	uri: string;
	/** Stops the child database, if this process started one. */
	stop(): Promise<void>;
}

export interface DatabaseOptions {
	/** MONGODB_URI: used as it is when set. */
	mongodbUri?: string;
	/** Where an embedded database keeps its files. */
	dataDir: string;
	/** The project's root, where tools/ferretdb and .tools/ live. */
	rootDir: string;
	/** Database name used in the URI of an embedded database. */
	dbName?: string;
	log?: (message: string) => void;
}

const START_TIMEOUT_MS = 60_000;

/**
 * Gives the hub a MongoDB-wire database, in this order: MONGODB_URI; a `mongod` on PATH;
 * FerretDB (SQLite backend) built once from tools/ferretdb. The hub owns any child it starts.
 */
export async function startDatabase(options: DatabaseOptions): Promise<RunningDatabase> {
	const log = options.log ?? (() => {});
	const dbName = options.dbName ?? 'hourglass';
	if (options.mongodbUri) {
		return { kind: 'external', uri: options.mongodbUri, stop: async () => {} };
	}
	const port = await freePort();
	const mongod = which('mongod');
	if (mongod) {
		const dbPath = join(options.dataDir, 'mongod');
		mkdirSync(dbPath, { recursive: true });
		log(`starting mongod (${mongod}) on 127.0.0.1:${port}, data in ${dbPath}`);
		const child = spawn(
			mongod,
			['--dbpath', dbPath, '--bind_ip', '127.0.0.1', '--port', String(port), '--quiet'],
			{
				stdio: ['ignore', 'ignore', 'pipe'],
			},
		);
		return own('mongod', child, port, dbName);
	}
	const binary = ferretdbBinary(options.rootDir, log);
	const sqliteDir = join(resolve(options.dataDir), 'ferretdb');
	mkdirSync(sqliteDir, { recursive: true });
	log(`starting FerretDB on 127.0.0.1:${port}, data in ${sqliteDir}`);
	const child = spawn(
		binary,
		['--listen-addr', `127.0.0.1:${port}`, '--sqlite-url', `file:${sqliteDir}/`, '--exit-with-parent'],
		{ stdio: ['ignore', 'ignore', 'pipe'] },
	);
	return own('ferretdb', child, port, dbName);
}

/** The FerretDB binary under .tools/, built with Go from tools/ferretdb when missing. */
export function ferretdbBinary(rootDir: string, log: (message: string) => void = () => {}): string {
	const binary = join(rootDir, '.tools', 'ferretdb');
	if (existsSync(binary)) return binary;
	const go = which('go');
	if (!go) {
		throw new Error(
			'No database available. Do one of: set MONGODB_URI to a MongoDB server; install MongoDB so that ' +
				'`mongod` is on PATH; or install Go (https://go.dev) so Hourglass can build FerretDB from tools/ferretdb.',
		);
	}
	log('building FerretDB v1.24.2 from tools/ferretdb (once; it is kept in .tools/)');
	const built = spawnSync(go, ['build', '-o', binary, '.'], {
		cwd: join(rootDir, 'tools', 'ferretdb'),
		env: { ...process.env, CGO_ENABLED: '0' },
		stdio: ['ignore', 'inherit', 'inherit'],
	});
	if (built.status !== 0 || !existsSync(binary)) {
		throw new Error(`building FerretDB failed (go build exited ${built.status}); see the output above`);
	}
	return binary;
}

async function own(
	kind: DatabaseKind,
	child: ChildProcess,
	port: number,
	dbName: string,
): Promise<RunningDatabase> {
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
	const started = Date.now();
	while (!(await portOpen(port))) {
		if (exited) throw new Error(`${kind} exited at start: ${stderr.trim() || 'no output'}`);
		if (Date.now() - started > START_TIMEOUT_MS) {
			child.kill('SIGKILL');
			throw new Error(`${kind} did not answer on port ${port} within ${START_TIMEOUT_MS / 1000} s`);
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	return {
		kind,
		uri: `mongodb://127.0.0.1:${port}/${dbName}`,
		stop: async () => {
			if (exited) return;
			child.kill('SIGTERM');
			const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
			await exitedPromise;
			clearTimeout(timer);
		},
	};
}

function which(command: string): string | null {
	for (const dir of (process.env.PATH ?? '').split(':')) {
		if (!dir) continue;
		const candidate = join(dir, command);
		if (existsSync(candidate)) return candidate;
	}
	return null;
}
