import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startDatabase, type RunningDatabase } from '../../server/db/embedded';
import { portOpen } from '../../server/net';
import { openStore } from '../../server/store';
import { openTestDb } from '../helpers/db';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const embedded = !process.env.MONGODB_URI;

describe('embedded database', () => {
	it('answers, stores and enforces a unique index (the claim primitive time-locks rely on)', async () => {
		const conn = await openTestDb(`${inject('mongoBaseUri')}/smoke_${Date.now()}`);
		try {
			const claims = conn.collection('claims');
			await claims.createIndex({ key: 1 }, { unique: true });
			await claims.insertOne({ key: 'a' });
			await expect(claims.insertOne({ key: 'a' })).rejects.toMatchObject({ code: 11000 });
			expect(await claims.countDocuments({})).toBe(1);
		} finally {
			await conn.dropDatabase();
			await conn.close();
		}
	});
});

const dataDirs: string[] = [];
const children: ChildProcess[] = [];
const databases: RunningDatabase[] = [];

function dataDir(): string {
	const dir = mkdtempSync(join(tmpdir(), 'hourglass-db-test-'));
	chmodSync(dir, 0o755); // PostgreSQL runs as nobody when the tests run as root
	dataDirs.push(dir);
	return dir;
}

afterAll(async () => {
	for (const db of databases) await db.stop();
	for (const child of children)
		if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
	for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return !/^\S+ \S+ Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); // a zombie is gone
	} catch {
		return false;
	}
}

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (await check()) return true;
		await new Promise((r) => setTimeout(r, 100));
	}
	return check();
}

/** Processes whose command line holds `text` (Linux /proc). */
function processesWith(text: string): number[] {
	return readdirSync('/proc')
		.filter((name) => /^\d+$/.test(name))
		.filter((pid) => {
			try {
				return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(text);
			} catch {
				return false;
			}
		})
		.map(Number);
}

describe.skipIf(!embedded || process.platform !== 'linux')('the embedded FerretDB on PostgreSQL', () => {
	it('keeps answering a burst of writes far larger than its connections (the store caps its pool)', async () => {
		// FerretDB 1.24 deadlocked for good under 80 concurrent updateOne from one client with a warm
		// pool of 100: the store's pool (STORE_POOL_SIZE) keeps each client below FerretDB's own.
		const store = await openStore(`${inject('mongoBaseUri')}/burst_${Date.now()}`);
		try {
			const sessions = Array.from({ length: 200 }, (_, i) => ({
				id: `s${i}`,
				username: `u${i}`,
				createdAt: 1,
				lastSeenAt: 1,
				expiresAt: 10,
				trusted: false,
				userAgent: '',
				place: null,
			}));
			await Promise.all(sessions.map((session) => store.sessions.insert(session)));
			// Reads first, so that the driver has opened every connection it may.
			for (let round = 0; round < 10; round += 1) {
				await Promise.all(sessions.map((session) => store.sessions.get(session.id)));
			}
			for (let round = 0; round < 3; round += 1) {
				await Promise.all(sessions.map((session) => store.sessions.touch(session.id, round + 2, round + 10)));
			}
			expect((await store.sessions.get('s199'))?.lastSeenAt).toBe(4);
		} finally {
			await store.close();
		}
	}, 30_000);

	it('leaves neither FerretDB nor PostgreSQL running after the hub is SIGKILLed', async () => {
		const dir = dataDir();
		const hub = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server/main.ts')], {
			cwd: ROOT,
			env: {
				...process.env,
				PORT: '0',
				HOST: '127.0.0.1',
				DATA_DIR: dir,
				LOG_LEVEL: 'info',
				NODE_ENV: 'test',
			},
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		children.push(hub);
		let output = '';
		await new Promise<void>((done, fail) => {
			const timer = setTimeout(() => fail(new Error(`the hub did not start:\n${output}`)), 60_000);
			hub.stdout?.on('data', (chunk: Buffer) => {
				output += chunk.toString();
				if (/running at /.test(output)) {
					clearTimeout(timer);
					done();
				}
			});
			hub.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
			hub.once('exit', (code) => fail(new Error(`the hub exited (${code}):\n${output}`)));
		});
		const pgPort = Number(/starting PostgreSQL .* on 127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
		const ferretPort = Number(/starting FerretDB on 127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
		const postmaster = Number(readFileSync(join(dir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
		const [ferretdb] = processesWith(`--postgres-pid ${postmaster} `);
		expect(await portOpen(pgPort)).toBe(true);
		expect(await portOpen(ferretPort)).toBe(true);
		expect(alive(postmaster) && ferretdb !== undefined && alive(ferretdb)).toBe(true);

		hub.kill('SIGKILL');
		expect(
			await eventually(async () => !(await portOpen(ferretPort)) && !(await portOpen(pgPort)), 15_000),
		).toBe(true);
		expect(await eventually(() => !alive(postmaster) && !alive(ferretdb), 15_000)).toBe(true);
		expect(existsSync(join(dir, 'postgres', 'postmaster.pid'))).toBe(false);
	});

	it('starts again, data intact, after PostgreSQL itself was SIGKILLed with everything else', async () => {
		const dir = dataDir();
		const first = await startDatabase({ dataDir: dir, rootDir: ROOT, dbName: 'again' });
		const conn = await openTestDb(first.uri);
		await conn.collection('notes').insertOne({ text: 'kept' });
		await conn.close();
		const postmaster = Number(readFileSync(join(dir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
		for (const pid of [...processesWith(`--postgres-pid ${postmaster} `), postmaster])
			process.kill(pid, 'SIGKILL');
		expect(await eventually(() => !alive(postmaster), 10_000)).toBe(true);
		expect(existsSync(join(dir, 'postgres', 'postmaster.pid'))).toBe(true); // left behind, as by a crash

		const second = await startDatabase({ dataDir: dir, rootDir: ROOT, dbName: 'again' });
		databases.push(second);
		const again = await openTestDb(second.uri);
		try {
			expect(await again.collection('notes').findOne({}, { projection: { _id: 0 } })).toEqual({
				text: 'kept',
			});
		} finally {
			await again.close();
		}
	});

	it('answers equality on an indexed field through its GIN index, not a scan', async () => {
		const dir = dataDir();
		const db = await startDatabase({ dataDir: dir, rootDir: ROOT, dbName: 'indexed' });
		databases.push(db);
		const conn = await openTestDb(db.uri);
		const client = new pg.Client({ connectionString: db.postgresUrl });
		await client.connect();
		try {
			const envelopes = conn.collection('envelopes');
			await envelopes.insertMany(Array.from({ length: 2000 }, (_, i) => ({ to: `user${i % 200}`, n: i })));
			await client.query('ANALYZE');
			const used = async () => {
				const { rows } = await client.query<{ scans: string }>(
					`SELECT coalesce(sum(idx_scan), 0) AS scans FROM pg_stat_user_indexes
					 WHERE schemaname = 'indexed' AND indexrelname LIKE 'envelopes%\\_hg\\_to'`,
				);
				return Number(rows[0].scans);
			};
			const before = await used();
			expect(await envelopes.find({ to: 'user7' }).toArray()).toHaveLength(10);
			// The statistics collector reports with a short delay.
			expect(await eventually(async () => (await used()) > before, 15_000)).toBe(true);
		} finally {
			await client.end();
			await conn.close();
		}
	});
});
