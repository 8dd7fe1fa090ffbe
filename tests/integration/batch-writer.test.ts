import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../server/store';
import { BATCH_MAX_DOCS, BatchWriter } from '../../server/store/batch-writer';
import { type DriverCollection, type TestDb, openTestDb } from '../helpers/db';
import { testDatabaseUri } from '../helpers/hub';

interface Doc {
	_id: string;
	n: number;
}

let db: TestDb;
let collection: DriverCollection<Doc>;

beforeAll(async () => {
	db = await openTestDb(testDatabaseUri('batch_writer'));
	collection = db.collection<Doc>('docs') as unknown as DriverCollection<Doc>;
});

afterAll(async () => {
	await db?.dropDatabase();
	await db?.close();
});

const stored = async (id: string) => (await collection.findOne({ _id: id })) !== null;

describe('BatchWriter: grouped inserts on the real database', () => {
	it('answers each document of one batch for itself: stored, or refused as a duplicate id', async () => {
		const writer = new BatchWriter(collection);
		await writer.insert({ _id: 'taken', n: 0 });
		const outcomes = await Promise.all([
			writer.insert({ _id: 'a', n: 1 }),
			writer.insert({ _id: 'a', n: 2 }),
			writer.insert({ _id: 'taken', n: 3 }),
			writer.insert({ _id: 'b', n: 4 }),
		]);
		expect(outcomes).toEqual([true, false, false, true]);
		// The first of a batch's two documents under one id is the one stored.
		expect((await collection.findOne({ _id: 'a' }))?.n).toBe(1);
		expect((await collection.findOne({ _id: 'taken' }))?.n).toBe(0);
	});

	it('fails only the sends of a batch that failed, acknowledging none that is not stored', async () => {
		const writer = new BatchWriter(collection);
		// A document the database refuses for another reason than its id: over the 16 MB BSON limit.
		const tooLarge = { _id: 'too-large', n: 0, pad: 'x'.repeat(17 * 1024 * 1024) } as Doc;
		const failed = await Promise.allSettled([
			writer.insert({ _id: 'beside', n: 1 }),
			writer.insert(tooLarge),
		]);
		expect(failed.map((o) => o.status)).toEqual(['rejected', 'rejected']);
		expect(await stored('too-large')).toBe(false);
		// The next batch is not affected, and a resend of the good document is stored (or was).
		const next = await Promise.all([
			writer.insert({ _id: 'after', n: 2 }),
			writer.insert({ _id: 'beside', n: 1 }),
		]);
		expect(next[0]).toBe(true);
		expect(await stored('beside')).toBe(true);
	});

	it('splits more documents than one batch holds into several, each stored once', async () => {
		const writer = new BatchWriter(collection);
		const count = BATCH_MAX_DOCS * 2 + 3;
		const outcomes = await Promise.all(
			Array.from({ length: count }, (_, i) => writer.insert({ _id: `many-${i}`, n: i })),
		);
		expect(outcomes.every(Boolean)).toBe(true);
		expect(await collection.countDocuments({ _id: { $regex: '^many-' } })).toBe(count);
	});

	it('drains: every insert made before drain() is answered when it resolves, without waiting for the window', async () => {
		const writer = new BatchWriter(collection);
		let answered = 0;
		const count = BATCH_MAX_DOCS + 44;
		for (let i = 0; i < count; i++) void writer.insert({ _id: `drain-${i}`, n: i }).then(() => answered++);
		await writer.drain();
		expect(answered).toBe(count);
		expect(await collection.countDocuments({ _id: { $regex: '^drain-' } })).toBe(count);
		// Nothing pending: it answers at once.
		await writer.drain();
	});

	it('closes a store only once the receipts still waiting in a batch are written', async () => {
		const uri = testDatabaseUri('batch_writer_close');
		const first = await openStore(uri, 2);
		const receipts = Array.from({ length: 50 }, (_, i) => ({ id: `close-${i}`, from: 'a', to: 'b', at: i }));
		// As a hub stopping while receipts are in flight: nobody awaits them before close().
		const written = first.receipts.insertMany(receipts);
		await first.close();
		expect(await written).toEqual(receipts.map(() => true));
		const second = await openStore(uri, 2);
		try {
			expect((await second.receipts.forSender('a', 0, 100)).map((r) => r.id).sort()).toEqual(
				receipts.map((r) => r.id).sort(),
			);
		} finally {
			await second.close();
		}
	});
});
