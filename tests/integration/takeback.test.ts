import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessageId, signDeletion } from '../../src/lib/crypto';
import { ClientConfig, ROUTES, type StoredEnvelope, type Tombstone } from '../../src/lib/protocol';
import { call, type HubSocket } from '../../src/lib/sdk';
import { dumpDatabase, openTestDb, type TestDb } from '../helpers/db';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	newUser,
	rawEmit,
	refusal,
	signInUser,
	uniqueName,
	waitForEvent,
	type TestClient,
} from '../helpers/users';

const WINDOW_SECONDS = 60;
/** The hub's clock runs ahead of the wall clock by this much, so a test can step past the delete window. */
let skewMs = 0;

let hub: TestHub;
let db: TestDb;
let alice: TestClient;
let aliceLaptop: TestClient;
let bob: TestClient;
let bobPhone: TestClient;
let carol: TestClient;

/** Everything a socket is pushed, to show what did not reach it. */
const heard = new Map<HubSocket, { messageNew: StoredEnvelope[]; deleted: Tombstone[] }>();

function listen(socket: HubSocket) {
	const log = { messageNew: [] as StoredEnvelope[], deleted: [] as Tombstone[] };
	socket.on('message:new', (envelope) => log.messageNew.push(envelope));
	socket.on('message:deleted', (tombstone) => log.deleted.push(tombstone));
	heard.set(socket, log);
}

function heardBy(client: TestClient) {
	const log = heard.get(client.socket);
	if (!log) throw new Error('socket not listened to');
	return log;
}

beforeAll(async () => {
	hub = await startTestHub({
		name: 'takeback',
		env: { DELETE_WINDOW_SECONDS: String(WINDOW_SECONDS), DISAPPEARING_TIMERS_SECONDS: '2,3,4,5' },
		now: () => Date.now() + skewMs,
	});
	db = await openTestDb(hub.mongoUri);
	alice = await newUser(hub.url, uniqueName('alice'));
	bob = await newUser(hub.url, uniqueName('bob'));
	carol = await newUser(hub.url, uniqueName('carol'));
	aliceLaptop = await signInUser(hub.url, alice.username);
	bobPhone = await signInUser(hub.url, bob.username);
	for (const client of [alice, aliceLaptop, bob, bobPhone, carol]) listen(client.socket);
});

afterAll(async () => {
	for (const client of [alice, aliceLaptop, bob, bobPhone, carol]) client?.close();
	await db?.close();
	await hub?.stop();
});

/** Alice sends Bob a message and waits until both of Bob's devices hold it. */
async function aliceSends(text: string, options: { expiresAfterMs?: number } = {}) {
	const arrivals = [bob, bobPhone].map((c) =>
		waitForEvent(c.socket, 'message:new', (e) => e.from === alice.username),
	);
	const { envelope } = await alice.messenger.send(bob.username, text, options);
	await Promise.all(arrivals);
	return envelope;
}

function settledDoc(id: string) {
	return db.collection('envelopes').findOne({ _id: id as never });
}

describe('delete for everyone', () => {
	it('leaves only the sender’s signed tombstone on the hub, and reaches every device of both sides live and on sync', async () => {
		const envelope = await aliceSends('I should not have said that');
		const told = [alice, aliceLaptop, bob, bobPhone].map((c) =>
			waitForEvent(c.socket, 'message:deleted', (t) => t.id === envelope.id),
		);
		const result = await alice.messenger.deleteForEveryone(envelope.id);
		expect(result).toEqual({ id: envelope.id, outcome: 'deleted' });
		const tombstones = await Promise.all(told);
		for (const t of tombstones)
			expect(t).toMatchObject({ id: envelope.id, from: alice.username, to: bob.username });
		// Bob's devices check that Alice, not the hub, asked for it.
		expect(await bob.messenger.checkTombstone(tombstones[0])).toMatchObject({
			id: envelope.id,
			peer: alice.username,
		});
		expect(await aliceLaptop.messenger.checkTombstone(tombstones[0])).toMatchObject({ peer: bob.username });

		// The hub's copy is gone: no ciphertext anywhere in its database.
		expect(await settledDoc(envelope.id)).toMatchObject({ state: 'deleted', ciphertext: '', nonce: '' });
		expect(await dumpDatabase(db)).not.toContain(envelope.ciphertext);

		// A device that was not there learns of it at its first sync, and never gets the text.
		for (const user of [bob, alice]) {
			const fresh = await signInUser(hub.url, user.username);
			try {
				const synced = await fresh.messenger.syncAll(null);
				expect(synced.messages.find((m) => m.id === envelope.id)).toBeUndefined();
				expect(synced.deletions.map((d) => d.id)).toContain(envelope.id);
			} finally {
				fresh.close();
			}
		}
		// Asking again answers the same, and changes nothing.
		expect(await alice.messenger.deleteForEveryone(envelope.id)).toEqual(result);
	});

	it('is ignored by the devices when the hub makes it up: the signature must be the sender’s over that message', async () => {
		const envelope = await aliceSends('still here');
		const other = newMessageId();
		const forged: Tombstone = {
			id: envelope.id,
			from: alice.username,
			to: bob.username,
			deletedAt: Date.now(),
			signature: signDeletion({ id: other, from: alice.username }, alice.account.identity.signSk),
			syncKey: '0'.repeat(15) + '-' + envelope.id,
		};
		expect(await bob.messenger.checkTombstone(forged)).toBeNull();
		const byBob = { ...forged, signature: signDeletion(forged, bob.account.identity.signSk) };
		expect(await bob.messenger.checkTombstone(byBob)).toBeNull();
	});

	it('is refused to the recipient, to a stranger, with a bad signature and after the window, and nothing changes', async () => {
		const envelope = await aliceSends('you cannot take this back');
		const target = { id: envelope.id, from: alice.username };
		const emitDelete = (client: TestClient, signature: string, id = envelope.id) =>
			call(client.socket, 'message:delete', { id, signature });

		expect(await refusal(emitDelete(bob, signDeletion(target, bob.account.identity.signSk)))).toBe(
			'FORBIDDEN',
		);
		// A stranger learns nothing: the same answer as for an id that does not exist.
		expect(await refusal(emitDelete(carol, signDeletion(target, carol.account.identity.signSk)))).toBe(
			'NOT_FOUND',
		);
		const unknown = newMessageId();
		expect(
			await refusal(
				emitDelete(carol, signDeletion({ ...target, id: unknown }, carol.account.identity.signSk), unknown),
			),
		).toBe('NOT_FOUND');
		const otherId = signDeletion({ ...target, id: newMessageId() }, alice.account.identity.signSk);
		expect(await refusal(emitDelete(alice, otherId))).toBe('BAD_SIGNATURE');

		skewMs = (WINDOW_SECONDS + 1) * 1000;
		try {
			expect(await refusal(alice.messenger.deleteForEveryone(envelope.id))).toBe('DELETE_WINDOW_PASSED');
		} finally {
			skewMs = 0;
		}
		expect(await settledDoc(envelope.id)).toMatchObject({ state: 'live', ciphertext: envelope.ciphertext });
		const synced = await bob.messenger.syncAll(null);
		expect(synced.messages.find((m) => m.id === envelope.id)?.text).toBe('you cannot take this back');
		expect(heardBy(bob).deleted.find((t) => t.id === envelope.id)).toBeUndefined();
	});

	it('cancels a time-locked message before its unlock: it is never delivered', async () => {
		const serverNow = (await call(alice.socket, 'time:sync', {})).serverNow;
		const unlockAt = serverNow + 1_500;
		const { envelope } = await alice.messenger.send(bob.username, 'sealed then deleted', { unlockAt });
		expect(await alice.messenger.deleteForEveryone(envelope.id)).toEqual({
			id: envelope.id,
			outcome: 'cancelled',
		});
		// The cancel is the lock's one decision: the settled copy stands as cancelled, the locked one goes.
		expect(await settledDoc(envelope.id)).toMatchObject({ state: 'cancelled' });
		await expect
			.poll(() => db.collection('locked_envelopes').countDocuments({ _id: envelope.id as never }), {
				timeout: 10_000,
			})
			.toBe(0);
		// Past the unlock time by the hub's clock, nothing reached Bob and his sync holds nothing of it.
		await expect
			.poll(async () => (await call(bob.socket, 'time:sync', {})).serverNow > unlockAt + 500, {
				timeout: 10_000,
			})
			.toBe(true);
		for (const client of [bob, bobPhone]) {
			expect(heardBy(client).messageNew.find((e) => e.id === envelope.id)).toBeUndefined();
		}
		const synced = await bob.messenger.syncAll(null);
		expect(synced.messages.find((m) => m.id === envelope.id)).toBeUndefined();
		expect(await settledDoc(envelope.id)).toMatchObject({ state: 'cancelled' });
	});
});

describe('delete for me', () => {
	it('reaches this account’s other device only; the other party keeps the message', async () => {
		const envelope = await aliceSends('forget this on my side');
		const onLaptop = waitForEvent(aliceLaptop.socket, 'message:new', (e) => e.kind === 'control');
		const control = await alice.messenger.forget(envelope.id);
		const pushed = await aliceLaptop.messenger.open(await onLaptop);
		expect(pushed.control).toEqual({ type: 'forget', id: envelope.id });
		expect(control.to).toBe(alice.username);
		// A device that was away finds it at its next sync.
		const synced = await aliceLaptop.messenger.syncAll(null);
		expect(synced.messages.find((m) => m.id === control.id)?.control).toEqual({
			type: 'forget',
			id: envelope.id,
		});
		// Bob is told nothing and keeps his copy.
		for (const client of [bob, bobPhone]) {
			expect(heardBy(client).messageNew.find((e) => e.id === control.id)).toBeUndefined();
		}
		const bobs = await bob.messenger.syncAll(null);
		expect(bobs.messages.find((m) => m.id === control.id)).toBeUndefined();
		expect(bobs.messages.find((m) => m.id === envelope.id)?.text).toBe('forget this on my side');
	});

	it('is not obeyed from anyone else: a forget from the peer is a bad message', async () => {
		const envelope = await aliceSends('bob cannot make me forget this');
		const onAlice = waitForEvent(alice.socket, 'message:new', (e) => e.kind === 'control');
		const forged = await bob.messenger.sealControl(alice.username, { type: 'forget', id: envelope.id });
		await bob.messenger.sendEnvelope(forged);
		const opened = await alice.messenger.open(await onAlice);
		expect(opened).toMatchObject({ control: null, problem: 'bad-body' });
	});
});

describe('disappearing messages', () => {
	it('carries the timer setting end to end to the peer and to the setter’s other devices', async () => {
		const isTimer = (e: StoredEnvelope) =>
			e.kind === 'control' && e.from === alice.username && e.to === bob.username;
		const onBob = waitForEvent(bob.socket, 'message:new', isTimer);
		const onLaptop = waitForEvent(aliceLaptop.socket, 'message:new', isTimer);
		await alice.messenger.setTimer(bob.username, 3_600_000);
		expect((await bob.messenger.open(await onBob)).control).toEqual({
			type: 'timer',
			expiresAfterMs: 3_600_000,
		});
		expect((await aliceLaptop.messenger.open(await onLaptop)).control).toEqual({
			type: 'timer',
			expiresAfterMs: 3_600_000,
		});
	});

	it('signs each message’s timer, and the hub removes its copy that long after the first delivery', async () => {
		const config = ClientConfig.parse(await (await fetch(`${hub.url}${ROUTES.clientConfig}`)).json());
		expect(config).toEqual({
			deleteWindowMs: WINDOW_SECONDS * 1000,
			disappearingTimers: { '5m': 2_000, '1h': 3_000, '1d': 4_000, '1w': 5_000 },
		});
		const timer = config.disappearingTimers['5m'];
		// A hub (or anyone) that changes the timer breaks the signature.
		const sealed = await alice.messenger.seal(bob.username, 'tampered', { expiresAfterMs: timer });
		expect(await refusal(alice.messenger.sendEnvelope({ ...sealed, expiresAfterMs: 604_800_000 }))).toBe(
			'BAD_SIGNATURE',
		);
		expect(await refusal(alice.messenger.sendEnvelope({ ...sealed, expiresAfterMs: null }))).toBe(
			'BAD_SIGNATURE',
		);

		const envelope = await aliceSends('gone soon', { expiresAfterMs: timer });
		const received = (await bob.messenger.syncAll(null)).messages.find((m) => m.id === envelope.id);
		expect(received).toMatchObject({ text: 'gone soon', expiresAfterMs: timer });
		// Not delivered yet: no removal is scheduled, and a sweep keeps it.
		await hub.hub.services.maintenance.sweep();
		expect(await db.collection('expiries').countDocuments({ _id: envelope.id as never })).toBe(0);
		expect(await settledDoc(envelope.id)).not.toBeNull();

		const deliveredAt = Date.now();
		await bob.messenger.receipt([envelope.id]);
		const expiry = await db.collection('expiries').findOne({ _id: envelope.id as never });
		expect(expiry?.at).toBeGreaterThanOrEqual(deliveredAt + timer - 50);
		expect(expiry?.at).toBeLessThanOrEqual(Date.now() + timer + 50);
		// A second delivery (Bob's phone) does not push it back.
		await bobPhone.messenger.receipt([envelope.id]);
		expect((await db.collection('expiries').findOne({ _id: envelope.id as never }))?.at).toBe(expiry?.at);

		await hub.hub.services.maintenance.sweep();
		// Checked after the sweep: if its timer had not run out by then, the sweep kept it.
		if (Date.now() < (expiry?.at ?? 0)) expect(await settledDoc(envelope.id)).not.toBeNull();
		await expect
			.poll(
				async () => {
					await hub.hub.services.maintenance.sweep();
					return settledDoc(envelope.id);
				},
				{ timeout: 15_000, interval: 250 },
			)
			.toBeNull();
		expect(Date.now()).toBeGreaterThanOrEqual(expiry?.at ?? Infinity);
		expect(await db.collection('expiries').countDocuments({ _id: envelope.id as never })).toBe(0);
		expect(await db.collection('receipts').countDocuments({ _id: envelope.id as never })).toBe(0);
		const fresh = await signInUser(hub.url, alice.username);
		try {
			expect(
				(await fresh.messenger.syncAll(null)).messages.find((m) => m.id === envelope.id),
			).toBeUndefined();
		} finally {
			fresh.close();
		}
	});
});

describe('bad input', () => {
	it('message:delete: malformed, oversized or without an ack gets a clear code, and nothing is deleted', async () => {
		const envelope = await aliceSends('stays');
		const signature = signDeletion({ id: envelope.id, from: alice.username }, alice.account.identity.signSk);
		const bad: unknown[] = [
			{ id: envelope.id },
			{ signature },
			{ id: 'not-a-uuid', signature },
			{ id: envelope.id, signature: signature.slice(1) },
			{ id: envelope.id, signature: signature + signature },
			{ id: envelope.id, signature: 'x'.repeat(100_000) },
			{ id: envelope.id, signature, to: bob.username },
			{ id: 42, signature },
			null,
			'delete',
		];
		for (const payload of bad) {
			expect(await rawEmit(alice.socket, 'message:delete', [payload])).toMatchObject({
				ok: false,
				error: { code: 'BAD_REQUEST' },
			});
		}
		expect(
			await rawEmit(alice.socket, 'message:delete', [{ id: envelope.id, signature }, 'extra']),
		).toMatchObject({
			ok: false,
			error: { code: 'BAD_REQUEST' },
		});
		// Without an ack nobody could learn the outcome: the hub does nothing.
		(alice.socket as unknown as { emit(event: string, payload: unknown): void }).emit('message:delete', {
			id: envelope.id,
			signature,
		});
		expect(await rawEmit(alice.socket, 'time:sync', [{}])).toMatchObject({ ok: true });
		expect(await settledDoc(envelope.id)).toMatchObject({ state: 'live', ciphertext: envelope.ciphertext });
	});

	it('message:send: a timer that is not a whole number of milliseconds up to a week is refused', async () => {
		const sealed = await alice.messenger.seal(bob.username, 'timer', { expiresAfterMs: 1_000 });
		for (const expiresAfterMs of [0, -5, 1.5, 604_800_001, '5m']) {
			expect(await rawEmit(alice.socket, 'message:send', [{ ...sealed, expiresAfterMs }])).toMatchObject({
				ok: false,
				error: { code: 'BAD_REQUEST' },
			});
		}
		for (const kind of ['timer', 'forget', '']) {
			expect(await rawEmit(alice.socket, 'message:send', [{ ...sealed, kind }])).toMatchObject({
				ok: false,
				error: { code: 'BAD_REQUEST' },
			});
		}
		expect(await settledDoc(sealed.id)).toBeNull();
	});
});
