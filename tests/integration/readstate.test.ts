import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	envelopeSigningBytes,
	newMessageId,
	sodiumSync,
	toB64,
	utf8,
	type Identity,
} from '../../src/lib/crypto';
import {
	LIMITS,
	type Ack,
	type Envelope,
	type EnvelopeHeader,
	type EnvelopeKind,
} from '../../src/lib/protocol';
import {
	ReadSync,
	Receiver,
	call,
	orderOf,
	readMarkerOf,
	readReceiptOf,
	receiptsSettingOf,
	unreadCounts,
	type DecodedMessage,
} from '../../src/lib/sdk';
import { openTestDb, type TestDb } from '../helpers/db';
import { startTestHub, type TestHub } from '../helpers/hub';
import { newUser, rawEmit, signInUser, uniqueName, waitForEvent, type TestClient } from '../helpers/users';

let hub: TestHub;
let db: TestDb;
const clients: TestClient[] = [];
const receivers: Receiver[] = [];

beforeAll(async () => {
	hub = await startTestHub({ name: 'readstate' });
	db = await openTestDb(hub.mongoUri);
});

afterAll(async () => {
	for (const receiver of receivers) receiver.stop();
	for (const client of clients) client.close();
	await db?.close();
	await hub?.stop();
});

async function user(prefix: string): Promise<TestClient> {
	const client = await newUser(hub.url, uniqueName(prefix));
	clients.push(client);
	return client;
}

async function device(of: TestClient): Promise<TestClient> {
	const client = await signInUser(hub.url, of.username);
	clients.push(client);
	return client;
}

/** A device's history as the SDK receives it (live pushes and syncs, each id once). */
function follow(
	client: TestClient,
	cursor: string | null = null,
): { held: DecodedMessage[]; receiver: Receiver } {
	const held: DecodedMessage[] = [];
	const receiver = new Receiver(client.messenger, {
		cursor,
		onMessages: (messages) => void held.push(...messages),
	});
	receivers.push(receiver);
	receiver.start();
	return { held, receiver };
}

function unread(held: DecodedMessage[], me: TestClient, peer: TestClient): number {
	return unreadCounts(held, me.username).get(peer.username) ?? 0;
}

/** Control envelopes the hub stored from `from` to `to`. */
function storedControls(from: TestClient, to: TestClient): Promise<number> {
	return db.collection('envelopes').countDocuments({ from: from.username, to: to.username, kind: 'control' });
}

/** The newest incoming message's place: what a device that showed them all marks read. */
function newestIn(held: DecodedMessage[], peer: TestClient): number {
	return Math.max(...held.filter((m) => m.kind === 'text' && m.from === peer.username).map(orderOf));
}

/** Seals any JSON as an envelope body, bypassing the sender's own schema: what a buggy or hostile client could send. */
function sealRaw(
	sender: TestClient,
	to: string,
	recipientBoxPk: Uint8Array,
	kind: EnvelopeKind,
	body: unknown,
	identity: Identity = sender.account.identity,
): Envelope {
	const s = sodiumSync();
	const nonce = s.randombytes_buf(s.crypto_box_NONCEBYTES);
	const ciphertext = s.crypto_box_easy(utf8(JSON.stringify(body)), nonce, recipientBoxPk, identity.boxSk);
	const header: EnvelopeHeader = {
		v: 1,
		id: newMessageId(),
		from: sender.username,
		to,
		sentAt: Date.now(),
		unlockAt: null,
		announce: false,
		kind,
		nonce: toB64(nonce),
		ciphertext: toB64(ciphertext),
	};
	return {
		...header,
		signature: toB64(s.crypto_sign_detached(envelopeSigningBytes(header), identity.signSk)),
	};
}

describe('read state across one account’s devices', () => {
	it('reading on one device marks the conversation read on the other, live', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const phone = follow(alice);
		const laptopClient = await device(alice);
		const laptop = follow(laptopClient);
		for (const text of ['one', 'two', 'three']) await bob.messenger.send(alice.username, text);
		await expect.poll(() => unread(phone.held, alice, bob), { timeout: 15_000 }).toBe(3);
		await expect.poll(() => unread(laptop.held, alice, bob), { timeout: 15_000 }).toBe(3);

		const reads = new ReadSync(alice.messenger, { delayMs: 0 });
		const marker = waitForEvent(laptopClient.socket, 'message:new', (e) => e.kind === 'control');
		reads.read(bob.username, newestIn(phone.held, bob));
		await reads.flush();
		const pushed = await marker;
		// An envelope to yourself: from and to are both the account.
		expect(pushed).toMatchObject({ from: alice.username, to: alice.username, kind: 'control' });
		await expect.poll(() => unread(laptop.held, alice, bob), { timeout: 15_000 }).toBe(0);
		// Control envelopes are never messages: nothing to show, nothing to count.
		const opened = laptop.held.find((m) => m.id === pushed.id);
		expect(opened).toMatchObject({ kind: 'control', text: null, problem: null });
		expect(readMarkerOf(opened!, alice.username)).toEqual({
			peer: bob.username,
			upTo: newestIn(phone.held, bob),
		});

		// A newer message is unread again on both.
		await bob.messenger.send(alice.username, 'four');
		await expect.poll(() => unread(laptop.held, alice, bob), { timeout: 15_000 }).toBe(1);
	});

	it('a device that was offline learns the read state at its next sync', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const laptop = await device(alice);
		const held: DecodedMessage[] = [];
		const first = await laptop.messenger.syncAll(null);
		held.push(...first.messages);
		laptop.close();

		for (const text of ['while', 'you', 'were', 'away']) await bob.messenger.send(alice.username, text);
		const onPhone = await alice.messenger.syncAll(null);
		const reads = new ReadSync(alice.messenger, { delayMs: 0 });
		reads.read(bob.username, newestIn(onPhone.messages, bob));
		await reads.flush();
		expect(reads.pending).toBe(0);

		await laptop.reconnect();
		const later = await laptop.messenger.syncAll(first.cursor);
		held.push(...later.messages);
		expect(held.filter((m) => m.kind === 'text' && m.from === bob.username)).toHaveLength(4);
		expect(unread(held, alice, bob)).toBe(0);
	});

	it('a newly signed-in device counts nothing already read as unread, only what came after', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		for (const text of ['old one', 'old two']) await bob.messenger.send(alice.username, text);
		const onPhone = await alice.messenger.syncAll(null);
		const reads = new ReadSync(alice.messenger, { delayMs: 0 });
		reads.read(bob.username, newestIn(onPhone.messages, bob));
		await reads.flush();
		await bob.messenger.send(alice.username, 'after the read');

		const fresh = await device(alice);
		const history = await fresh.messenger.syncAll(null);
		expect(history.messages.filter((m) => m.kind === 'text')).toHaveLength(3);
		expect(unread(history.messages, alice, bob)).toBe(1);
	});

	it('a reply written on another device counts as having read what came before it', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		await bob.messenger.send(alice.username, 'question');
		await alice.messenger.send(bob.username, 'answer');
		const fresh = await device(alice);
		expect(unread((await fresh.messenger.syncAll(null)).messages, alice, bob)).toBe(0);
	});

	it('coalesces: reading 500 times sends one marker, with the furthest point', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const reads = new ReadSync(alice.messenger, { delayMs: 60_000 });
		const before = await storedControls(alice, alice);
		for (let upTo = 1; upTo <= 500; upTo++) reads.read(bob.username, upTo);
		expect(reads.pending).toBe(1);
		await reads.flush();
		expect(await storedControls(alice, alice)).toBe(before + 1);
		const synced = await (await device(alice)).messenger.syncAll(null);
		const markers = synced.messages.map((m) => readMarkerOf(m, alice.username)).filter((m) => m !== null);
		expect(markers).toEqual([{ peer: bob.username, upTo: 500 }]);
	});
});

describe('read receipts to the peer', () => {
	it('are off by default: reading sends the peer nothing', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const { envelope } = await bob.messenger.send(alice.username, 'did you read this?');
		const onPhone = await alice.messenger.syncAll(null);
		const reads = new ReadSync(alice.messenger, { delayMs: 0 });
		reads.read(bob.username, newestIn(onPhone.messages, bob), [envelope.id]);
		await reads.flush();
		// The hub stored the marker to alice's own devices (so the flush ran), and nothing for bob.
		expect(await storedControls(alice, alice)).toBe(1);
		expect(await storedControls(alice, bob)).toBe(0);
	});

	it('with receipts on, the peer sees which of its messages were read, batched in one envelope', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		// Alice turns receipts on; her other devices learn it from the encrypted note to herself.
		const setting = await alice.messenger.sendControl(alice.username, { type: 'receipts-setting', on: true });
		const laptop = await device(alice);
		const synced = await laptop.messenger.syncAll(null);
		const settings = synced.messages
			.map((m) => receiptsSettingOf(m, alice.username))
			.filter((s) => s !== null);
		expect(settings).toEqual([{ on: true, at: setting.result.storedAt }]);

		const ids: string[] = [];
		for (const text of ['a', 'b', 'c'])
			ids.push((await bob.messenger.send(alice.username, text)).envelope.id);
		const atBob = waitForEvent(
			bob.socket,
			'message:new',
			(e) => e.kind === 'control' && e.from === alice.username,
		);
		const reads = new ReadSync(laptop.messenger, { delayMs: 0, receipts: () => settings.at(-1)!.on });
		const onLaptop = await laptop.messenger.syncAll(synced.cursor);
		reads.read(bob.username, newestIn(onLaptop.messages, bob), ids);
		await reads.flush();
		const receipt = await bob.messenger.open(await atBob);
		expect(readReceiptOf(receipt, bob.username)).toEqual({ peer: alice.username, ids });
		expect(await storedControls(alice, bob)).toBe(1);
	});
});

describe('failures', () => {
	it('a receipt refused for good is dropped with its error, and does not hold up the next ones', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const errors: unknown[] = [];
		const reads = new ReadSync(alice.messenger, {
			delayMs: 60_000,
			receipts: () => true,
			onError: (error) => errors.push(error),
		});
		const ghost = uniqueName('ghost');
		reads.read(ghost, 1, [newMessageId()]);
		reads.read(bob.username, 2, [newMessageId()]);
		await reads.flush();
		expect(errors).toHaveLength(1);
		expect(reads.pending).toBe(0);
		expect(await storedControls(alice, bob)).toBe(1);
		expect(await storedControls(alice, alice)).toBe(2);
	});
});

describe('bad input', () => {
	it('ignores a read marker that anyone but the account itself sends', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const carol = await user('carol');
		await carol.messenger.send(alice.username, 'from carol');
		await bob.messenger.send(alice.username, 'from bob');
		// Bob claims alice read his conversation and carol's.
		await bob.messenger.sendControl(alice.username, { type: 'read', peer: bob.username, upTo: 8e15 });
		await bob.messenger.sendControl(alice.username, { type: 'read', peer: carol.username, upTo: 8e15 });
		const history = (await alice.messenger.syncAll(null)).messages;
		expect(history.filter((m) => m.kind === 'control')).toHaveLength(2);
		expect(history.map((m) => readMarkerOf(m, alice.username)).filter((m) => m !== null)).toEqual([]);
		expect(unread(history, alice, bob)).toBe(1);
		expect(unread(history, alice, carol)).toBe(1);
	});

	it('does not take a read receipt this account sent for one it received', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const { envelope } = await alice.messenger.sendControl(bob.username, {
			type: 'read-receipt',
			ids: [newMessageId()],
		});
		const [mine] = (await alice.messenger.syncAll(null)).messages.filter((m) => m.id === envelope.id);
		// Alice's own receipt to bob, seen on her devices: not one that bob sent.
		expect(readReceiptOf(mine, alice.username)).toBeNull();
	});

	it('rejects malformed control bodies with the receiver’s schema, and the sync goes on', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const aliceBox = alice.account.identity.boxPk;
		const bad = [
			sealRaw(bob, alice.username, aliceBox, 'control', { type: 'read', peer: 'NOT A NAME', upTo: -1 }),
			sealRaw(bob, alice.username, aliceBox, 'control', { type: 'read-receipt', ids: [] }),
			sealRaw(bob, alice.username, aliceBox, 'control', {
				type: 'read-receipt',
				ids: Array.from({ length: LIMITS.readReceiptIdsMax + 1 }, () => newMessageId()),
			}),
			sealRaw(bob, alice.username, aliceBox, 'control', {
				type: 'read',
				peer: alice.username,
				upTo: 1,
				x: 1,
			}),
			sealRaw(bob, alice.username, aliceBox, 'control', { type: 'wipe-everything' }),
			// A body that does not match its signed kind is trusted as neither.
			sealRaw(bob, alice.username, aliceBox, 'control', { type: 'text', text: 'hidden as control' }),
			sealRaw(bob, alice.username, aliceBox, 'text', { type: 'read-receipt', ids: [newMessageId()] }),
		];
		for (const envelope of bad) await bob.messenger.sendEnvelope(envelope);
		await bob.messenger.send(alice.username, 'still here');

		const held: DecodedMessage[] = [];
		const { receiver } = {
			receiver: new Receiver(alice.messenger, { onMessages: (m) => void held.push(...m) }),
		};
		receivers.push(receiver);
		receiver.start();
		await expect.poll(() => held.length, { timeout: 15_000 }).toBe(bad.length + 1);
		for (const envelope of bad) {
			const opened = held.find((m) => m.id === envelope.id)!;
			expect(opened).toMatchObject({ text: null, control: null, problem: 'bad-body' });
		}
		expect(held.find((m) => m.kind === 'text' && m.text === 'still here')).toBeDefined();
		// The control ones count for nothing; the mis-kinded text one shows as a damaged message, like any bad body.
		expect(unread(held, alice, bob)).toBe(2);
	});

	it('refuses an envelope of an unknown kind with BAD_REQUEST, and stores nothing', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const envelope = sealRaw(alice, bob.username, bob.account.identity.boxPk, 'control', {
			type: 'read-receipt',
			ids: [newMessageId()],
		});
		const reply = (await rawEmit(alice.socket, 'message:send', [
			{ ...envelope, kind: 'receipt' },
		])) as Ack<unknown>;
		expect(reply).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
		expect(await db.collection('envelopes').countDocuments({ _id: envelope.id as never })).toBe(0);
		// The hub still answers the same socket.
		expect((await call(alice.socket, 'time:sync', {})).serverNow).toBeGreaterThan(0);
	});
});
