import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionIdOf } from '../../server/services/auth';
import { openTestDb, type TestDb } from '../helpers/db';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	newUser,
	signInUser,
	uniqueName,
	waitForDisconnect,
	waitForEvent,
	type TestClient,
} from '../helpers/users';

const DAY = 86_400_000;

let hub: TestHub;
let db: TestDb;
let alice: TestClient;
let bob: TestClient;

beforeAll(async () => {
	hub = await startTestHub({ name: 'maintenance', env: { RETENTION_DAYS: '7' } });
	db = await openTestDb(hub.mongoUri);
	alice = await newUser(hub.url, uniqueName('alice'));
	bob = await newUser(hub.url, uniqueName('bob'));
});

afterAll(async () => {
	alice?.close();
	bob?.close();
	await db?.close();
	await hub?.stop();
});

function tokenOf(client: TestClient): string {
	return /hg_session=([^;]+)/.exec(client.api.cookieHeader() ?? '')?.[1] ?? '';
}

describe('the maintenance sweep', () => {
	it('purges envelopes delivered longer ago than the retention, and keeps the rest', async () => {
		const old = await alice.messenger.send(bob.username, 'read last month');
		const recent = await alice.messenger.send(bob.username, 'read just now');
		const undelivered = await alice.messenger.send(bob.username, 'never fetched');
		await bob.messenger.receipt([old.envelope.id, recent.envelope.id]);
		// The first receipt is backdated past the retention period.
		await db
			.collection('receipts')
			.updateOne({ _id: old.envelope.id as never }, { $set: { at: Date.now() - 8 * DAY } });

		const report = await hub.hub.services.maintenance.sweep();
		expect(report.envelopesPurged).toBe(1);
		const left = await db
			.collection('envelopes')
			.find({ _id: { $in: [old.envelope.id, recent.envelope.id, undelivered.envelope.id] } as never })
			.toArray();
		expect(left.map((d) => String(d._id)).sort()).toEqual(
			[recent.envelope.id, undelivered.envelope.id].sort(),
		);
		expect(await db.collection('receipts').countDocuments({ _id: old.envelope.id as never })).toBe(0);
	});

	it('ends idle sessions and tells their open sockets why', async () => {
		const tablet = await signInUser(hub.url, bob.username);
		const ended = waitForEvent(tablet.socket, 'session:ended');
		const dropped = waitForDisconnect(tablet.socket);
		await db
			.collection('sessions')
			.updateOne({ _id: sessionIdOf(tokenOf(tablet)) as never }, { $set: { expiresAt: Date.now() - 1 } });

		const report = await hub.hub.services.maintenance.sweep();
		expect(report.sessionsEnded).toBe(1);
		expect(await ended).toEqual({ reason: 'expired' });
		expect(await dropped).toBe('io server disconnect');
		tablet.close();
		await expect(tablet.api.session()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
		// Bob's other session is untouched.
		expect(bob.socket.connected).toBe(true);
		expect((await bob.api.session()).user.username).toBe(bob.username);
	});
});

describe('stopping a hub during a sweep', () => {
	it('lets the sweep finish its batch before the store closes, and the next sweep does the rest', async () => {
		const stopping = await startTestHub({ name: 'maintenance_stop', env: { RETENTION_DAYS: '7' } });
		const stoppingDb = await openTestDb(stopping.mongoUri);
		try {
			const count = 5_000;
			const at = Date.now() - 8 * DAY;
			await stoppingDb
				.collection('receipts')
				.insertMany(
					Array.from({ length: count }, (_, i) => ({ _id: `old-${i}` as never, from: 'a', to: 'b', at })),
				);

			let settled = false;
			const sweep = stopping.hub.services.maintenance.sweep().finally(() => {
				settled = true;
			});
			await stopping.stop();
			// Before the fix the store closed under the sweep, which failed with a closed connection.
			expect(settled).toBe(true);
			const report = await sweep;
			const left = await stoppingDb.collection('receipts').countDocuments({});
			// Every batch it took was done whole.
			expect(report.envelopesPurged + left).toBe(count);

			const again = await startTestHub({
				name: 'maintenance_stop',
				mongoUri: stopping.mongoUri,
				env: { RETENTION_DAYS: '7' },
			});
			try {
				expect((await again.hub.services.maintenance.sweep()).envelopesPurged).toBe(left);
				expect(await stoppingDb.collection('receipts').countDocuments({})).toBe(0);
			} finally {
				await again.stop();
			}
		} finally {
			await stoppingDb.close();
			await stopping.stop();
		}
	});
});
