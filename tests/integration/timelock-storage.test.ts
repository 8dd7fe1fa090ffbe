import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/lib/crypto';
import { ProtocolError, SealedNotice } from '../../src/lib/protocol';
import { call } from '../../src/lib/sdk';
import { openTestDb } from '../helpers/db';
import { startTestHub, type TestHub } from '../helpers/hub';
import { newUser, signInUser, uniqueName, waitForEvent, type TestClient } from '../helpers/users';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let hub: TestHub;
let db: Connection;
let alice: TestClient;
let aliceLaptop: TestClient;
let bob: TestClient;

beforeAll(async () => {
	// An empty extension: these tests pin down the core's storage half, with no scheduler releasing anything.
	hub = await startTestHub({
		name: 'timelock_core',
		env: { TIMELOCK_HORIZON_DAYS: '30' },
		hooks: { setup: () => ({}) },
	});
	db = await openTestDb(hub.mongoUri);
	alice = await newUser(hub.url, uniqueName('alice'));
	bob = await newUser(hub.url, uniqueName('bob'));
	aliceLaptop = await signInUser(hub.url, alice.username);
});

afterAll(async () => {
	for (const client of [alice, aliceLaptop, bob]) client?.close();
	await db?.close();
	await hub?.stop();
});

async function refusal(promise: Promise<unknown>): Promise<string> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof ProtocolError) return error.code;
		throw error;
	}
	throw new Error('the hub accepted what it should have refused');
}

/** True when `event` arrives on the socket within `ms` (for "must not arrive" checks). */
function arrives(promise: Promise<unknown>): Promise<boolean> {
	return promise.then(
		() => true,
		() => false,
	);
}

describe('time-locked envelopes before their unlock', () => {
	it("are stored locked, shown to the sender's devices, and never handed to the recipient", async () => {
		const bobSawIt = arrives(
			waitForEvent(bob.socket, 'message:new', (e) => e.from === alice.username, 1_500),
		);
		const bobWasTold = arrives(waitForEvent(bob.socket, 'timelock:sealed', () => true, 1_500));
		const onLaptop = waitForEvent(aliceLaptop.socket, 'message:new', (e) => e.state === 'locked');
		const sent = await alice.messenger.send(bob.username, 'not yet', { unlockAt: Date.now() + HOUR });
		expect(sent.result).toMatchObject({ state: 'locked', duplicate: false });
		expect(await onLaptop).toMatchObject({ id: sent.envelope.id, state: 'locked', releasedAt: null });

		const stored = await db.collection('envelopes').findOne({ _id: sent.envelope.id as never });
		expect(stored).toMatchObject({ state: 'locked', unlockAt: sent.envelope.unlockAt });

		const page = await bob.messenger.sync(null);
		expect(page.envelopes.map((e) => e.id)).not.toContain(sent.envelope.id);
		expect(page.sealed.map((n) => n.id)).not.toContain(sent.envelope.id);
		expect(await call(bob.socket, 'message:received', { ids: [sent.envelope.id] })).toEqual({ count: 0 });
		expect(await bobSawIt).toBe(false);
		expect(await bobWasTold).toBe(false);

		// The sender's own sync does list it, as locked.
		const own = await aliceLaptop.messenger.syncAll(null);
		expect(own.messages.find((m) => m.id === sent.envelope.id)).toMatchObject({
			state: 'locked',
			text: 'not yet',
		});
	});

	it('when announced, tell the recipient that something is coming and when, with no ciphertext', async () => {
		const notice = waitForEvent(bob.socket, 'timelock:sealed', (n) => n.from === alice.username);
		const unlockAt = Date.now() + 2 * HOUR;
		const sent = await alice.messenger.send(bob.username, 'a surprise', { unlockAt, announce: true });
		const seen = await notice;
		expect(SealedNotice.parse(seen)).toEqual({
			id: sent.envelope.id,
			from: alice.username,
			to: bob.username,
			sentAt: sent.envelope.sentAt,
			unlockAt,
		});
		expect(Object.keys(seen).sort()).toEqual(['from', 'id', 'sentAt', 'to', 'unlockAt']);
		const page = await bob.messenger.sync(null);
		expect(page.sealed.find((n) => n.id === sent.envelope.id)).toEqual(seen);
		expect(page.envelopes.map((e) => e.id)).not.toContain(sent.envelope.id);
	});

	it('refuse an unlock date in the past and one beyond the horizon', async () => {
		expect(
			await refusal(alice.messenger.send(bob.username, 'too late', { unlockAt: Date.now() - 1_000 })),
		).toBe('UNLOCK_IN_PAST');
		expect(
			await refusal(alice.messenger.send(bob.username, 'too far', { unlockAt: Date.now() + 31 * DAY })),
		).toBe('UNLOCK_TOO_FAR');
		expect(
			(await alice.messenger.send(bob.username, 'just in', { unlockAt: Date.now() + 29 * DAY })).result.state,
		).toBe('locked');
	});

	it('reach the recipient’s sync after their cursor once released through the store seam', async () => {
		const before = await bob.messenger.syncAll(null);
		const sent = await alice.messenger.send(bob.username, 'released now', { unlockAt: Date.now() + HOUR });
		const { store, now, hubId } = hub.hub.context;
		const id = sent.envelope.id;
		expect([...(await store.releases.claim([id], 'released', now(), hubId))]).toEqual([id]);
		expect([...(await store.releases.claim([id], 'cancelled', now(), 'x'))]).toEqual([]);
		expect(await store.envelopes.markReleased(sent.envelope.id, now())).toBe(true);
		expect(await store.envelopes.markReleased(sent.envelope.id, now())).toBe(false);

		const after = await bob.messenger.syncAll(before.cursor);
		const message = after.messages.find((m) => m.id === sent.envelope.id);
		expect(message).toMatchObject({ state: 'released', text: 'released now' });
		expect(message?.releasedAt).toBeGreaterThanOrEqual(sent.result.storedAt);
		expect(await call(bob.socket, 'message:received', { ids: [sent.envelope.id] })).toEqual({ count: 1 });
	});

	it('release a batch at once, in one position of the sync order, and only what is still locked', async () => {
		const before = await bob.messenger.syncAll(null);
		const sent = await Promise.all(
			['one', 'two', 'three'].map((text) =>
				alice.messenger.send(bob.username, text, { unlockAt: Date.now() + HOUR }),
			),
		);
		const ids = sent.map((s) => s.envelope.id);
		const { store } = hub.hub.context;
		const at = Date.now();
		expect(await store.envelopes.markReleased(ids[0], at - 5)).toBe(true);
		const released = await store.envelopes.releaseMany([...ids, newMessageId()], at);
		expect(released.map((e) => e.id).sort()).toEqual(ids.slice(1).sort());
		for (const e of released) expect(e).toMatchObject({ state: 'released', releasedAt: at });
		expect(await store.envelopes.releaseMany(ids, at + 1)).toEqual([]);

		const after = await bob.messenger.syncAll(before.cursor);
		const got = after.messages.filter((m) => ids.includes(m.id));
		// The one released earlier first, then the batch (one release time) in id order.
		expect(got.map((m) => m.id)).toEqual([ids[0], ...ids.slice(1).sort()]);
		for (const m of got) expect(m.syncKey).toBe(`${String(m.releasedAt).padStart(15, '0')}-${m.id}`);
		// The SDK's overlap cursor (time, no id) still returns every envelope at that time.
		const overlap = await bob.messenger.sync(`${String(at).padStart(15, '0')}-`);
		expect(
			overlap.messages
				.filter((m) => ids.includes(m.id))
				.map((m) => m.id)
				.sort(),
		).toEqual(ids.slice(1).sort());
	});

	it('leave listing and cancelling to the time-lock extension: UNAVAILABLE without one', async () => {
		expect(await refusal(call(alice.socket, 'timelock:list', {}))).toBe('UNAVAILABLE');
		expect(await refusal(call(alice.socket, 'timelock:cancel', { id: newMessageId() }))).toBe('UNAVAILABLE');
	});
});
