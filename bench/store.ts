/**
 * `npm run bench:store`: how the cost of the hub's hot store queries grows with what is stored.
 * Starts its own embedded database (FerretDB on PostgreSQL) in a temporary folder, fills the
 * envelopes collection through the hub's own Store, and at each size times every hot query for
 * one user with few envelopes among many users, without and then with the embedded engine's
 * indexes (server/db/embedded-indexes.ts), in the same run.
 *
 *   npx tsx bench/store.ts [--sizes 1000,100000] [--full] [--reps 30]
 *
 * `--full` adds the 1,000,000 step (filling takes minutes on two cores). Locked envelopes are a
 * hundredth of the stored ones, unlocking over the next 30 days.
 */
import { dueSlotOf } from '../server/store/due-slot';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { dropEmbeddedIndexes, indexEmbeddedTables } from '../server/db/embedded-indexes';
import { startDatabase } from '../server/db/embedded';
import { base64urlBytes, openStore, type Store } from '../server/store';
import { syncKeyOf, type StoredEnvelope } from '../src/lib/protocol';
import { openTestDb, type TestDb } from '../tests/helpers/db';
import { fixed, summarize, table } from './lib/stats';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DB_NAME = `bench_store_${Date.now().toString(36)}`;
/** The user whose queries are timed: a few envelopes each way among everyone else's. */
const ALICE = 'alice';
const BOB = 'bob';
const OTHER_USERS = 10_000;
const FILL_BATCH = 1000;
/** A query that scans a large collection takes seconds: each stops after this long, with MIN_RUNS at least. */
const QUERY_BUDGET_MS = 10_000;
const MIN_RUNS = 3;
const DAY_MS = 24 * 60 * 60 * 1000;
/** A short text's envelope: 24-byte nonce, ~200 bytes of ciphertext, 64-byte signature, in base64. */
const NONCE = Buffer.alloc(24, 7).toString('base64');
const CIPHERTEXT = Buffer.alloc(200, 9).toString('base64');
const SIGNATURE = Buffer.alloc(64, 3).toString('base64');

interface Options {
	sizes: number[];
	reps: number;
}

function readOptions(argv: string[]): Options {
	const { values } = parseArgs({
		args: argv,
		options: {
			sizes: { type: 'string', default: '1000,100000' },
			full: { type: 'boolean', default: false },
			reps: { type: 'string', default: '30' },
		},
		strict: true,
	});
	const sizes = values.sizes.split(',').map(Number);
	if (values.full) sizes.push(1_000_000);
	if (sizes.some((n) => !Number.isInteger(n) || n < 100 || n > 10_000_000)) {
		throw new Error('--sizes: integers from 100 to 10,000,000, comma-separated');
	}
	const reps = Number(values.reps);
	if (!Number.isInteger(reps) || reps < 3 || reps > 1000)
		throw new Error('--reps: an integer from 3 to 1000');
	return { sizes: [...new Set(sizes)].sort((a, b) => a - b), reps };
}

function envelope(from: string, to: string, at: number, state: StoredEnvelope['state']): StoredEnvelope {
	const id = uuidv7();
	return {
		v: 1,
		id,
		from,
		to,
		sentAt: at,
		unlockAt: state === 'locked' ? at + Math.floor(Math.random() * 30 * DAY_MS) + 60_000 : null,
		announce: false,
		kind: 'text',
		nonce: NONCE,
		ciphertext: CIPHERTEXT,
		signature: SIGNATURE,
		state,
		storedAt: at,
		releasedAt: null,
		syncKey: syncKeyOf(at, id),
	};
}

const someone = () => `user${Math.floor(Math.random() * OTHER_USERS)}`;
/** A heavy sender: one stored envelope in HEAVY_SHARE is hers, so what she stored grows with the collection. */
const HEIDI = 'heidi';
const HEAVY_SHARE = 100;

/** Settled envelopes in batches through the Store's one bulk write (a release: one insertMany). */
async function fillSettled(store: Store, count: number): Promise<void> {
	for (let done = 0; done < count; done += FILL_BATCH) {
		const now = Date.now();
		const batch = Array.from({ length: Math.min(FILL_BATCH, count - done) }, (_, i) =>
			envelope((done + i) % HEAVY_SHARE === 0 ? HEIDI : someone(), someone(), now, 'live'),
		);
		await store.envelopes.release(batch, now);
	}
}

/** Locked envelopes one by one, as senders store them, a few at a time. */
async function fillLocked(store: Store, count: number): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next++ < count) await store.envelopes.insert(envelope(someone(), someone(), Date.now(), 'locked'));
	};
	await Promise.all(Array.from({ length: 4 }, worker));
}

type Query = [name: string, run: () => Promise<unknown>];

function hotQueries(store: Store, raw: TestDb, aliceReceived: string[]): Query[] {
	const envelopes = raw.collection('envelopes');
	let n = 0;
	const pick = () => aliceReceived[n++ % aliceReceived.length];
	return [
		['sync page: page(alice, cursor, 50)', () => store.envelopes.page(ALICE, syncKeyOf(1, ''), 50)],
		['receipt: deliverable([id], alice)', () => store.envelopes.deliverable([pick()], ALICE)],
		[
			'receipt: insert',
			() => store.receipts.insertMany([{ id: uuidv7(), from: BOB, to: ALICE, at: Date.now() }]),
		],
		['time-lock due: lockedDueBy(now+60s, 100)', () => store.envelopes.lockedDueBy(Date.now() + 60_000, 100)],
		[
			'time-lock due: lockedInSlots(next 2 slots)',
			() => store.envelopes.lockedInSlots([dueSlotOf(Date.now()), dueSlotOf(Date.now()) + 1]),
		],
		['time-lock list: lockedFrom(alice, 50)', () => store.envelopes.lockedFrom(ALICE, 50)],
		// A pair of its own, so the timed user's counts stay as they are.
		[
			'live send: insert (locked lookup + insert)',
			() => store.envelopes.insert(envelope('carol', 'dave', Date.now(), 'live')),
		],
		// A sender's first send on a hub reads these (server/services/quota.ts).
		['quota: undelivered(alice, bob)', () => store.usage.undelivered(ALICE, BOB)],
		['quota: storedBytes(heidi), summed by the database', () => store.usage.storedBytes(HEIDI)],
		// The baseline: how the hub added them up before envelopes kept their size.
		[
			"quota: heidi's bytes, every ciphertext read (before)",
			async () => {
				let bytes = 0;
				for (const name of ['envelopes', 'locked_envelopes']) {
					const cursor = raw
						.collection(name)
						.find({ from: HEIDI }, { projection: { _id: 0, ciphertext: 1 } });
					for await (const doc of cursor) bytes += base64urlBytes(String(doc.ciphertext));
				}
				return bytes;
			},
		],
		['find {_id: X} on envelopes', () => envelopes.findOne({ _id: pick() as never })],
		['find {to: X} on envelopes', () => envelopes.find({ to: ALICE }).toArray()],
	];
}

interface Timing {
	p50: number;
	p99: number;
	runs: number;
}

async function time(queries: Query[], reps: number): Promise<Map<string, Timing>> {
	const results = new Map<string, Timing>();
	for (const [name, run] of queries) {
		await run(); // warm: FerretDB's metadata, the statement cache
		const samples: number[] = [];
		const deadline = performance.now() + QUERY_BUDGET_MS;
		while (samples.length < reps && (samples.length < MIN_RUNS || performance.now() < deadline)) {
			const started = performance.now();
			await run();
			samples.push(performance.now() - started);
		}
		const { p50, p99 } = summarize(samples);
		results.set(name, { p50, p99, runs: samples.length });
	}
	return results;
}

/** How PostgreSQL answers FerretDB's equality on `to` (Seq Scan, or Bitmap Heap Scan on an index). */
async function planFor(client: pg.Client, field: string, value: string): Promise<string> {
	const { rows } = await client.query<{ table: string }>(
		`SELECT _jsonb->>'table' AS table FROM ${ident(DB_NAME)}._ferretdb_database_metadata WHERE _jsonb->>'_id' = 'envelopes'`,
	);
	const { rows: plan } = await client.query<{ 'QUERY PLAN': string }>(
		`EXPLAIN SELECT _jsonb FROM ${ident(DB_NAME)}.${ident(rows[0].table)} WHERE _jsonb->$1 @> $2`,
		[field, JSON.stringify(value)],
	);
	return plan[0]['QUERY PLAN'].replace(/\s+\(cost.*$/, '');
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function main() {
	const options = readOptions(process.argv.slice(2));
	const dataDir = mkdtempSync(join(tmpdir(), 'hourglass-bench-store-'));
	// Reachable by the user PostgreSQL runs as when the bench runs as root (mkdtemp makes it 0700).
	chmodSync(dataDir, 0o755);
	const db = await startDatabase({
		dataDir,
		rootDir: ROOT,
		dbName: DB_NAME,
		postgresBinDir: process.env.POSTGRES_BIN_DIR,
	});
	const cleanups: (() => Promise<unknown>)[] = [
		async () => rmSync(dataDir, { recursive: true, force: true }),
	];
	cleanups.push(() => db.stop());
	try {
		if (!db.postgresUrl)
			throw new Error(`the store bench needs the embedded FerretDB on PostgreSQL (got ${db.kind})`);
		const store = await openStore(db.uri);
		cleanups.push(() => store.close());
		const raw = await openTestDb(db.uri);
		cleanups.push(() => raw.close());
		const client = new pg.Client({ connectionString: db.postgresUrl });
		await client.connect();
		cleanups.push(() => client.end());

		// Alice's few: 20 received, 20 sent, 5 locked that she sent.
		const now = Date.now();
		const received = Array.from({ length: 20 }, () => envelope(BOB, ALICE, now, 'live'));
		await store.envelopes.release(received, now);
		await store.envelopes.release(
			Array.from({ length: 20 }, () => envelope(ALICE, BOB, now, 'live')),
			now,
		);
		for (let i = 0; i < 5; i++) await store.envelopes.insert(envelope(ALICE, BOB, now, 'locked'));
		const queries = hotQueries(
			store,
			raw,
			received.map((e) => e.id),
		);

		process.stdout.write(
			`Store bench: FerretDB 1.24 on PostgreSQL, database ${DB_NAME}; alice has 20 received, 20 sent, ` +
				`5 locked among ${OTHER_USERS} other users, heidi sent 1 in ${HEAVY_SHARE} of the rest; up to ${options.reps} runs per query (fewer past ${QUERY_BUDGET_MS / 1000} s; p99 of few runs is their max).\n`,
		);
		const results = new Map<string, (string | number)[][]>(queries.map(([name]) => [name, []]));
		let stored = 40;
		let locked = 5;
		for (const size of options.sizes) {
			// Filled with the indexes in place: a locked insert looks its id up among the settled ones.
			const fillStarted = performance.now();
			await fillSettled(store, Math.max(0, size - stored));
			await fillLocked(store, Math.max(0, Math.floor(size / 100) - locked));
			stored = Math.max(stored, size);
			locked = Math.max(locked, Math.floor(size / 100));
			const fillSeconds = (performance.now() - fillStarted) / 1000;
			await client.query('ANALYZE');
			const planWith = await planFor(client, 'to', ALICE);
			const withIndexes = await time(queries, options.reps);
			await dropEmbeddedIndexes(client, DB_NAME);
			await client.query('ANALYZE');
			const planWithout = await planFor(client, 'to', ALICE);
			const without = await time(queries, options.reps);
			const indexStarted = performance.now();
			await indexEmbeddedTables(client, DB_NAME);
			const indexSeconds = (performance.now() - indexStarted) / 1000;
			process.stdout.write(
				`${size.toLocaleString('en')} stored (+${locked.toLocaleString('en')} locked): filled in ` +
					`${fixed(fillSeconds)} s, indexes rebuilt in ${fixed(indexSeconds)} s; {to} plan without: ` +
					`${planWithout}; with: ${planWith}\n`,
			);
			for (const [name] of queries) {
				const a = without.get(name);
				const b = withIndexes.get(name);
				if (a && b) {
					results
						.get(name)
						?.push([
							name,
							size.toLocaleString('en'),
							a.p50,
							a.p99,
							String(a.runs),
							b.p50,
							b.p99,
							String(b.runs),
							`${fixed(a.p50 / b.p50)}×`,
						]);
				}
			}
		}
		const rows = [
			['query', 'stored', 'no index p50', 'p99', 'runs', 'indexed p50', 'p99', 'runs', 'p50 gain'],
			...[...results.values()].flat(),
		];
		process.stdout.write(`\nTimes in ms.\n${table(rows)}\n`);
	} finally {
		for (const cleanup of cleanups.reverse()) await cleanup();
	}
}

await main();
