import { describe, expect, inject, it } from 'vitest';
import { openTestDb } from '../helpers/db';

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
