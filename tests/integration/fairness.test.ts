import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtocolError, type Envelope } from '../../src/lib/protocol';
import { base64urlBytes } from '../../server/store';
import { openTestDb } from '../helpers/db';
import { startTestHub, type TestHub } from '../helpers/hub';
import { newUser, signInUser, uniqueName, type TestClient, refusal } from '../helpers/users';

const UNDELIVERED_MAX = 3;
/** Two long messages fit, a third does not; short ones still do. */
const LONG_TEXT = 'x'.repeat(1_000);
const STORED_BYTES_MAX = 2_500;
const BURST = 5;

const clients: TestClient[] = [];
const hubs: TestHub[] = [];

afterAll(async () => {
	for (const client of clients) client.close();
	for (const hub of hubs) await hub.stop();
});

async function user(hub: TestHub, name: string): Promise<TestClient> {
	const client = await newUser(hub.url, uniqueName(name));
	clients.push(client);
	return client;
}

describe('quotas on what a user leaves stored', () => {
	let hub: TestHub;
	let alice: TestClient;
	let bob: TestClient;
	let carol: TestClient;
	let dave: TestClient;
	const acknowledged: string[] = [];
	let firstEnvelope: Envelope;
	let erinName = '';
	let erinClient: TestClient;

	beforeAll(async () => {
		hub = await startTestHub({
			name: 'fairness_quota',
			env: {
				QUOTA_UNDELIVERED_PER_RECIPIENT: String(UNDELIVERED_MAX),
				QUOTA_STORED_BYTES_PER_USER: String(STORED_BYTES_MAX),
			},
		});
		hubs.push(hub);
		[alice, bob, carol, dave] = await Promise.all(
			['alice', 'bob', 'carol', 'dave'].map((name) => user(hub, name)),
		);
	});

	it('refuses a sender with QUOTA_UNDELIVERED once that many wait for one recipient, and no one else', async () => {
		for (let i = 0; i < UNDELIVERED_MAX; i++) {
			const { envelope, result } = await alice.messenger.send(bob.username, `waiting ${i}`);
			firstEnvelope ??= envelope;
			acknowledged.push(result.id);
		}
		const refused = await alice.messenger.seal(bob.username, 'one too many');
		expect(await refusal(alice.messenger.sendEnvelope(refused))).toBe('QUOTA_UNDELIVERED');
		// Another recipient, and another sender to the same recipient, are not affected.
		await alice.messenger.send(carol.username, 'to someone else');
		await dave.messenger.send(bob.username, 'from someone else');
	});

	it('still answers a resend of a stored envelope at the limit as the duplicate it is', async () => {
		const again = await alice.messenger.sendEnvelope(firstEnvelope);
		expect(again).toMatchObject({ id: acknowledged[0], duplicate: true });
	});

	it('keeps counting what is stored across a restart of the hub', async () => {
		await hub.restart();
		await Promise.all([alice.reconnect(hub.url), bob.reconnect(hub.url)]);
		expect(await refusal(alice.messenger.send(bob.username, 'after restart'))).toBe('QUOTA_UNDELIVERED');
	});

	it('makes room again when the recipient receives, and has lost nothing it acknowledged', async () => {
		await bob.messenger.receipt([acknowledged[0]]);
		acknowledged.push((await alice.messenger.send(bob.username, 'room again')).result.id);
		expect(await refusal(alice.messenger.send(bob.username, 'full again'))).toBe('QUOTA_UNDELIVERED');

		const { messages } = await bob.messenger.syncAll(null);
		const fromAlice = messages.filter((m) => m.from === alice.username).map((m) => m.id);
		expect(fromAlice.sort()).toEqual([...acknowledged].sort());
	});

	it('refuses a sender with QUOTA_STORAGE past the bytes they may keep stored, and no one else', async () => {
		const erin = await user(hub, 'erin');
		const first = await erin.messenger.send(alice.username, LONG_TEXT);
		await erin.messenger.send(carol.username, LONG_TEXT);
		expect(base64urlBytes(first.envelope.ciphertext) * 2).toBeLessThanOrEqual(STORED_BYTES_MAX);
		expect(await refusal(erin.messenger.send(dave.username, LONG_TEXT))).toBe('QUOTA_STORAGE');
		// What still fits goes through; a delivery does not free storage (the retention sweep does).
		await erin.messenger.send(dave.username, 'short');
		await alice.messenger.receipt([first.result.id]);
		expect(await refusal(erin.messenger.send(dave.username, LONG_TEXT))).toBe('QUOTA_STORAGE');
		await dave.messenger.send(erin.username, LONG_TEXT);
		erinName = erin.username;
		erinClient = erin;
	});

	it('counts the bytes of envelopes stored before sizes were kept, once it has given them theirs', async () => {
		// A database from before sizes: no envelope has one, and no hub has backfilled them.
		const db = await openTestDb(hub.mongoUri);
		try {
			const unset = await db.collection('envelopes').updateMany({ from: erinName }, { $unset: { size: '' } });
			expect(unset.modifiedCount).toBeGreaterThanOrEqual(3);
			await db.collection('settings').deleteOne({ _id: 'envelope-sizes-backfilled' as never });
		} finally {
			await db.close();
		}
		await hub.restart();
		await erinClient.reconnect(hub.url);
		// Summed without sizes, erin's stored bytes would read 0 and this would fit.
		expect(await refusal(erinClient.messenger.send(dave.username, LONG_TEXT))).toBe('QUOTA_STORAGE');
		await erinClient.messenger.send(dave.username, 'short still fits');
	});
});

describe('the send rate per user', () => {
	let hub: TestHub;

	beforeAll(async () => {
		hub = await startTestHub({
			name: 'fairness_rate',
			env: { SEND_RATE_PER_SECOND: '20', SEND_BURST: String(BURST) },
		});
		hubs.push(hub);
	});

	it('refuses with RATE_LIMITED past the burst however many sockets the user opens, and no one else', async () => {
		const alice = await user(hub, 'alice');
		const bob = await user(hub, 'bob');
		const devices = [alice, ...(await Promise.all([1, 2].map(() => signInUser(hub.url, alice.username))))];
		clients.push(...devices.slice(1));
		// Sealed first, so the burst is sent within a few milliseconds (20/s refills one token in 50 ms).
		const envelopes = await Promise.all(
			Array.from({ length: BURST + devices.length }, (_, i) =>
				alice.messenger.seal(bob.username, `burst ${i}`),
			),
		);
		const outcomes = await Promise.allSettled(
			envelopes.map((e, i) => devices[i % devices.length].messenger.sendEnvelope(e)),
		);
		const refused = outcomes.filter((o) => o.status === 'rejected');
		expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBeLessThanOrEqual(BURST + 1);
		expect(refused.length).toBeGreaterThanOrEqual(devices.length - 1);
		for (const o of refused) expect((o.reason as ProtocolError).code).toBe('RATE_LIMITED');

		await bob.messenger.send(alice.username, 'another user is not slowed');
		// Tokens come back at the configured rate.
		for (let tries = 0; ; tries++) {
			try {
				await alice.messenger.send(bob.username, 'later');
				break;
			} catch (error) {
				if ((error as ProtocolError).code !== 'RATE_LIMITED' || tries > 20) throw error;
				await new Promise((resolve) => setTimeout(resolve, 25));
			}
		}
	});
});
