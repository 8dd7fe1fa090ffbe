import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SealedNotice } from '../../src/lib/protocol';
import { call } from '../../src/lib/sdk';
import { DUE_SLOT_MS, dueSlotOf } from '../../server/store/due-slot';
import { HubPeers } from '../../server/services/timelock/peers';
import { TimelockService } from '../../server/services/timelock/service';
import { openTestDb, type TestDb } from '../helpers/db';
import { startTestHub, type TestHub } from '../helpers/hub';
import { newUser, signInUser, uniqueName, waitForEvent, type TestClient, refusal } from '../helpers/users';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let hub: TestHub;
let db: TestDb;
let alice: TestClient;
let aliceLaptop: TestClient;
let bob: TestClient;

beforeAll(async () => {
	// Every lock here unlocks an hour or more ahead, beyond the scheduler's window: these tests pin
	// down the storage half, deciding through the store itself.
	hub = await startTestHub({ name: 'timelock_core', env: { TIMELOCK_HORIZON_DAYS: '30' } });
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

		// Kept apart from everything deliverable until its decision.
		const stored = await db.collection('locked_envelopes').findOne({ _id: sent.envelope.id as never });
		expect(stored).toMatchObject({ state: 'locked', unlockAt: sent.envelope.unlockAt });
		expect(await db.collection('envelopes').findOne({ _id: sent.envelope.id as never })).toBeNull();

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
		const { store, now } = hub.hub.context;
		const id = sent.envelope.id;
		const [locked] = await store.envelopes.lockedMany([id]);
		expect(locked).toMatchObject({ id, state: 'locked' });
		const first = await store.envelopes.release([locked], now());
		expect(first.released.map((e) => e.id)).toEqual([id]);
		expect(first.decided).toEqual([]);
		// The id is decided now: a second release and a cancel are both refused by the unique insert.
		expect(await store.envelopes.release([locked], now())).toEqual({ released: [], decided: [id] });
		expect(await store.envelopes.cancel(locked, now())).toBe('decided-before');
		expect(await store.envelopes.get(id)).toMatchObject({ state: 'released' });

		const after = await bob.messenger.syncAll(before.cursor);
		const message = after.messages.find((m) => m.id === sent.envelope.id);
		expect(message).toMatchObject({ state: 'released', text: 'released now' });
		expect(message?.releasedAt).toBeGreaterThanOrEqual(sent.result.storedAt);
		expect(await call(bob.socket, 'message:received', { ids: [sent.envelope.id] })).toEqual({ count: 1 });
		// Until its locked copy is removed, the sender's own lists already treat it as settled.
		expect((await store.envelopes.lockedFrom(alice.username, 100)).map((e) => e.id)).not.toContain(id);
		await store.envelopes.removeLocked([id]);
		expect(await store.envelopes.lockedMany([id])).toEqual([]);
		expect(await store.envelopes.get(id)).toMatchObject({ state: 'released' });
	});

	it('store a resend of a time-locked message once, even after its release removed the locked copy', async () => {
		const sent = await alice.messenger.send(bob.username, 'sent twice', { unlockAt: Date.now() + HOUR });
		const id = sent.envelope.id;
		const { store, now } = hub.hub.context;
		await store.envelopes.release(await store.envelopes.lockedMany([id]), now());
		await store.envelopes.removeLocked([id]);
		// The device never saw its ack and sends the same envelope again.
		const again = await call(alice.socket, 'message:send', sent.envelope);
		expect(again).toMatchObject({ id, duplicate: true });
		expect(await store.envelopes.lockedMany([id])).toEqual([]);
		expect(await store.envelopes.get(id)).toMatchObject({ state: 'released' });
		// A live send is one insert, with no lookup among locked envelopes (docs/SECURITY.md, "Message
		// ids and time-locks"): a live envelope under a still-locked id, which only its sender (or an
		// announced recipient) knows, is stored; the locked one's release is then refused as decided.
		const other = await alice.messenger.send(bob.username, 'still locked', { unlockAt: Date.now() + HOUR });
		const imitation = await alice.messenger.seal(bob.username, 'live now', { id: other.envelope.id });
		expect(await call(alice.socket, 'message:send', imitation)).toMatchObject({
			duplicate: false,
			state: 'live',
		});
		const outcome = await store.envelopes.release(
			await store.envelopes.lockedMany([other.envelope.id]),
			now(),
		);
		expect(outcome).toEqual({ released: [], decided: [other.envelope.id] });
		const page = await bob.messenger.syncAll(null);
		expect(page.messages.filter((m) => m.id === other.envelope.id).map((m) => m.text)).toEqual(['live now']);
	});

	it('release a batch at once, in one position of the sync order, and only what is still undecided', async () => {
		const before = await bob.messenger.syncAll(null);
		const sent = await Promise.all(
			['one', 'two', 'three'].map((text) =>
				alice.messenger.send(bob.username, text, { unlockAt: Date.now() + HOUR }),
			),
		);
		const ids = sent.map((s) => s.envelope.id);
		const { store } = hub.hub.context;
		const locked = await store.envelopes.lockedMany(ids);
		expect(locked.map((e) => e.id).sort()).toEqual([...ids].sort());
		const first = locked.filter((e) => e.id === ids[0]);
		const at = Date.now();
		await store.envelopes.release(first, at - 5);
		const batch = await store.envelopes.release(locked, at);
		expect(batch.released.map((e) => e.id).sort()).toEqual(ids.slice(1).sort());
		expect(batch.decided).toEqual([ids[0]]);
		for (const e of batch.released) expect(e).toMatchObject({ state: 'released', releasedAt: at });
		expect((await store.envelopes.release(locked, at + 1)).released).toEqual([]);
		await store.envelopes.removeLocked(ids);

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
});

describe('due slots', () => {
	it('give each locked copy its slot, find it by slot alone, and are backfilled for older copies', async () => {
		const { store } = hub.hub.context;
		const unlockAt = Date.now() + 2 * HOUR;
		const sent = await alice.messenger.send(bob.username, 'slotted', { unlockAt });
		const id = sent.envelope.id;
		const slot = dueSlotOf(unlockAt);
		const stored = await db.collection('locked_envelopes').findOne({ _id: id as never });
		expect(stored).toMatchObject({ dueSlot: slot });
		// A slot read returns the whole envelope, and only the slots asked for.
		expect((await store.envelopes.lockedInSlots([slot])).map((e) => e.id)).toContain(id);
		expect((await store.envelopes.lockedInSlots([slot - 1, slot + 1])).map((e) => e.id)).not.toContain(id);
		const [read] = (await store.envelopes.lockedInSlots([slot])).filter((e) => e.id === id);
		expect(read).toMatchObject({ state: 'locked', unlockAt, ciphertext: sent.envelope.ciphertext });

		// A copy written before slots existed (no dueSlot) is invisible to slot reads until backfilled.
		await db.collection('locked_envelopes').updateOne({ _id: id as never }, { $unset: { dueSlot: '' } });
		expect((await store.envelopes.lockedInSlots([slot])).map((e) => e.id)).not.toContain(id);
		expect(await store.envelopes.backfillDueSlots()).toBeGreaterThanOrEqual(1);
		expect((await store.envelopes.lockedInSlots([slot])).map((e) => e.id)).toContain(id);
		expect(await store.envelopes.backfillDueSlots()).toBe(0);
		expect(slot * DUE_SLOT_MS).toBeLessThanOrEqual(unlockAt);
		expect((slot + 1) * DUE_SLOT_MS).toBeGreaterThan(unlockAt);
	});

	it('read again on demand the slots read already: a lock no one was told of is found there', async () => {
		const { store, notify, logger } = hub.hub.context;
		// A second scheduler's source over the same store, as another hub would run it.
		const source = new TimelockService({
			store,
			notify,
			logger,
			now: Date.now,
			peers: new HubPeers('other', Date.now),
		});
		const until = Date.now() + 2 * HOUR;
		await source.dueBefore(until, 10_000, null);
		// Stored afterwards, due within what that read covered, and its notice never reaches `source`.
		const sent = await alice.messenger.send(bob.username, 'unheard of', { unlockAt: Date.now() + HOUR });
		const id = sent.envelope.id;
		expect((await source.dueBefore(until, 10_000, null)).map((ref) => ref.id)).not.toContain(id);
		source.wantSlotsAgain(Date.now() - 10 * 60_000);
		expect((await source.dueBefore(until, 10_000, null)).map((ref) => ref.id)).toContain(id);
		// Once: the read after that is back to the slots entering the window.
		expect((await source.dueBefore(until, 10_000, null)).map((ref) => ref.id)).not.toContain(id);
	});
});
