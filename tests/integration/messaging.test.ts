import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromB64, generateIdentity, newMessageId, sealEnvelope, toB64 } from '../../src/lib/crypto';
import { LIMITS, ProtocolError, type Ack, type Envelope } from '../../src/lib/protocol';
import { call, connectHub } from '../../src/lib/sdk';
import { openTestDb, type TestDb } from '../helpers/db';
import { fetchMetrics, startTestHub, type TestHub } from '../helpers/hub';
import {
	newUser,
	rawEmit,
	signInUser,
	uniqueName,
	waitForConnect,
	waitForDisconnect,
	waitForEvent,
	type TestClient,
	refusal,
} from '../helpers/users';

let hub: TestHub;
/** Added to the hub's clock: a test moves the hub's time forward instead of writing its storage. */
let clockOffset = 0;
let db: TestDb;
let alice: TestClient;
let bob: TestClient;
const clients: TestClient[] = [];

beforeAll(async () => {
	hub = await startTestHub({ name: 'messaging', now: () => Date.now() + clockOffset });
	db = await openTestDb(hub.mongoUri);
	alice = await newUser(hub.url, uniqueName('alice'));
	bob = await newUser(hub.url, uniqueName('bob'));
	clients.push(alice, bob);
});

afterAll(async () => {
	for (const client of clients) client.close();
	await db?.close();
	await hub?.stop();
});

async function hubStillAnswers(client: TestClient): Promise<void> {
	const { serverNow } = await call(client.socket, 'time:sync', {});
	expect(Math.abs(serverNow - Date.now())).toBeLessThan(5_000);
	expect((await client.api.health()).status).toBe('ok');
}

function envelopeFor(
	from: TestClient,
	to: TestClient,
	text: string,
	overrides: Partial<Envelope> = {},
): Envelope {
	const sealed = sealEnvelope(
		{ from: from.username, to: to.username, body: { type: 'text', text } },
		from.account.identity,
		to.account.identity.boxPk,
	);
	return { ...sealed, ...overrides };
}

describe('live messaging', () => {
	it('delivers a message live from alice to bob, and a reply from bob to alice, both readable', async () => {
		const atBob = waitForEvent(bob.socket, 'message:new', (e) => e.from === alice.username);
		const sent = await alice.messenger.send(bob.username, 'hello bob');
		expect(sent.result).toMatchObject({ id: sent.envelope.id, duplicate: false, state: 'live' });
		const received = await atBob;
		expect(received).toMatchObject({ id: sent.envelope.id, state: 'live', syncKey: sent.result.syncKey });
		expect((await bob.messenger.open(received)).text).toBe('hello bob');

		const atAlice = waitForEvent(alice.socket, 'message:new', (e) => e.from === bob.username);
		const reply = await bob.messenger.send(alice.username, 'hi alice');
		const back = await atAlice;
		expect(back.id).toBe(reply.envelope.id);
		expect((await alice.messenger.open(back)).text).toBe('hi alice');
	});

	it("shows a sent message on the sender's other devices, but not echoed to the sending socket", async () => {
		const aliceLaptop = await signInUser(hub.url, alice.username);
		clients.push(aliceLaptop);
		const onLaptop = waitForEvent(aliceLaptop.socket, 'message:new', (e) => e.to === bob.username);
		const echoed = waitForEvent(alice.socket, 'message:new', (e) => e.to === bob.username, 1_500).then(
			() => true,
			() => false,
		);
		const sent = await alice.messenger.send(bob.username, 'from my phone');
		const copy = await onLaptop;
		expect(copy.id).toBe(sent.envelope.id);
		expect((await aliceLaptop.messenger.open(copy)).text).toBe('from my phone');
		expect(await echoed).toBe(false);
	});

	it('tells the sender when a device of the recipient has the message', async () => {
		const sent = await alice.messenger.send(bob.username, 'did you get this?');
		const status = waitForEvent(alice.socket, 'message:status', (s) => s.id === sent.envelope.id);
		await bob.messenger.receipt([sent.envelope.id]);
		expect(await status).toMatchObject({ id: sent.envelope.id, status: 'delivered' });
		const page = await alice.messenger.sync(sent.result.syncKey.slice(0, 15) + '-');
		expect(page.delivered.map((d) => d.id)).toContain(sent.envelope.id);
		// Receipts only count for messages addressed to the caller.
		expect(await call(alice.socket, 'message:received', { ids: [sent.envelope.id] })).toEqual({ count: 0 });
	});
});

describe('sync after a reconnect', () => {
	it('hands bob what he missed, in order, after his cursor, page by page', async () => {
		const before = await bob.messenger.syncAll(null);
		const cursor = before.cursor;
		bob.socket.close();
		const texts = ['one', 'two', 'three', 'four', 'five'];
		const ids: string[] = [];
		for (const text of texts) ids.push((await alice.messenger.send(bob.username, text)).envelope.id);

		await bob.reconnect();
		const first = await bob.messenger.sync(cursor, 2);
		expect(first.more).toBe(true);
		expect(first.messages.map((m) => m.text)).toEqual(['one', 'two']);
		const second = await bob.messenger.sync(first.cursor, 2);
		const third = await bob.messenger.sync(second.cursor, 2);
		expect([...second.messages, ...third.messages].map((m) => m.text)).toEqual(['three', 'four', 'five']);
		expect(third.more).toBe(false);
		const empty = await bob.messenger.sync(third.cursor);
		expect(empty.envelopes).toEqual([]);
		expect(empty.cursor).toBe(third.cursor);

		const all = await bob.messenger.syncAll(cursor);
		const missed = all.messages.filter((m) => ids.includes(m.id));
		expect(missed.map((m) => m.text)).toEqual(texts);
		expect(missed.every((m) => m.problem === null && m.direction === 'in')).toBe(true);
	});

	it("returns the sender's own messages to her other devices too", async () => {
		const sent = await alice.messenger.send(bob.username, 'for the record');
		const laptop = await signInUser(hub.url, alice.username);
		clients.push(laptop);
		const all = await laptop.messenger.syncAll(null);
		const mine = all.messages.find((m) => m.id === sent.envelope.id);
		expect(mine).toMatchObject({ direction: 'out', text: 'for the record' });
	});
});

describe('idempotent sending', () => {
	it('stores a resent envelope once and says it was a duplicate', async () => {
		const envelope = await alice.messenger.seal(bob.username, 'only once');
		const first = await alice.messenger.sendEnvelope(envelope);
		const again = await alice.messenger.sendEnvelope(envelope);
		expect(again).toEqual({ ...first, duplicate: true });
		const page = await bob.messenger.syncAll(null);
		expect(page.messages.filter((m) => m.id === envelope.id)).toHaveLength(1);
	});

	it('refuses another message under an id already used: ID_CONFLICT', async () => {
		const first = await alice.messenger.send(bob.username, 'original');
		const clash = await alice.messenger.seal(bob.username, 'impostor', { id: first.envelope.id });
		expect(await refusal(alice.messenger.sendEnvelope(clash))).toBe('ID_CONFLICT');
		const stored = await bob.messenger.syncAll(null);
		expect(stored.messages.find((m) => m.id === first.envelope.id)?.text).toBe('original');
	});
});

describe('grouped writes (sends arriving together share one insert)', () => {
	it('stores the same envelope sent twice at once from two devices once: one fresh, one duplicate', async () => {
		const laptop = await signInUser(hub.url, alice.username);
		clients.push(laptop);
		const envelope = await alice.messenger.seal(bob.username, 'twice in one batch');
		const results = await Promise.all([
			call(alice.socket, 'message:send', envelope),
			call(laptop.socket, 'message:send', envelope),
		]);
		expect(results.map((r) => r.duplicate).sort()).toEqual([false, true]);
		const page = await bob.messenger.syncAll(null);
		expect(page.messages.filter((m) => m.id === envelope.id)).toHaveLength(1);
	});

	it('refuses the second of two different envelopes under one id in one batch: ID_CONFLICT', async () => {
		const laptop = await signInUser(hub.url, alice.username);
		clients.push(laptop);
		const first = await alice.messenger.seal(bob.username, 'first under this id');
		const clash = await alice.messenger.seal(bob.username, 'second under this id', { id: first.id });
		const outcomes = await Promise.allSettled([
			call(alice.socket, 'message:send', first),
			call(laptop.socket, 'message:send', clash),
		]);
		const stored = outcomes.filter((o) => o.status === 'fulfilled');
		const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as ProtocolError] : []));
		expect(stored).toHaveLength(1);
		expect(refused.map((e) => e.code)).toEqual(['ID_CONFLICT']);
		const page = await bob.messenger.syncAll(null);
		const kept = page.messages.filter((m) => m.id === first.id);
		expect(kept).toHaveLength(1);
		// The one acknowledged is the one stored.
		expect(kept[0].text).toBe(
			outcomes[0].status === 'fulfilled' ? 'first under this id' : 'second under this id',
		);
	});

	it('stores every one of many envelopes sent at once, each once', async () => {
		const envelopes = await Promise.all(
			Array.from({ length: 40 }, (_, i) => alice.messenger.seal(bob.username, `burst ${i}`)),
		);
		const results = await Promise.all(envelopes.map((e) => call(alice.socket, 'message:send', e)));
		expect(results.every((r) => !r.duplicate)).toBe(true);
		const page = await bob.messenger.syncAll(null);
		const ids = new Set(envelopes.map((e) => e.id));
		expect(page.messages.filter((m) => ids.has(m.id))).toHaveLength(40);
	});
});

/** The hub's database commands so far, by `command collection`, from its /metrics. */
async function databaseCommands(): Promise<Map<string, number>> {
	const counts = new Map<string, number>();
	for (const match of (await fetchMetrics(hub)).matchAll(
		/^hourglass_database_commands_total\{command="([^"]*)",collection="([^"]*)"\} (\d+)$/gm,
	)) {
		counts.set(`${match[1]} ${match[2]}`, Number(match[3]));
	}
	return counts;
}

describe('what a live message costs the database', () => {
	it('no read: only the grouped inserts of the envelope and its receipt, once the pair has written before', async () => {
		const carol = await newUser(hub.url, uniqueName('carol'));
		const dave = await newUser(hub.url, uniqueName('dave'));
		clients.push(carol, dave);
		// The first message reads how the two stand (and makes dave carol's contact).
		const first = await carol.messenger.send(dave.username, 'first');
		await dave.messenger.receipt([first.envelope.id]);

		const before = await databaseCommands();
		const count = 10;
		for (let i = 0; i < count; i++) {
			const arrived = waitForEvent(dave.socket, 'message:new', (e) => e.from === carol.username);
			const sent = await carol.messenger.send(dave.username, `message ${i}`);
			expect((await arrived).id).toBe(sent.envelope.id);
			const status = waitForEvent(carol.socket, 'message:status', (e) => e.id === sent.envelope.id);
			await dave.messenger.receipt([sent.envelope.id]);
			await status;
		}
		const after = await databaseCommands();
		const spent = [...after]
			.map(([key, n]) => [key, n - (before.get(key) ?? 0)] as const)
			// A socket's periodic session re-check may fall in the window: it is no message's cost.
			.filter(([key, n]) => n > 0 && !key.endsWith(' sessions'));
		// Sent one at a time, each is its own group: one insert each for the envelopes and the receipts.
		expect(Object.fromEntries(spent)).toEqual({ 'insert envelopes': count, 'insert receipts': count });
	});

	it('time-locked sends that arrive together share one insert; each adds one `_id` lookup', async () => {
		const erin = await newUser(hub.url, uniqueName('erin'));
		const frank = await newUser(hub.url, uniqueName('frank'));
		clients.push(erin, frank);
		await erin.messenger.send(frank.username, 'first');
		const unlockAt = Date.now() + 3_600_000;
		const before = await databaseCommands();
		const count = 20;
		const sent = await Promise.all(
			Array.from({ length: count }, (_, i) =>
				erin.messenger.send(frank.username, `locked ${i}`, { unlockAt }),
			),
		);
		const after = await databaseCommands();
		expect(sent.map((s) => s.result)).toEqual(
			sent.map(() => expect.objectContaining({ state: 'locked', duplicate: false })),
		);
		const spent = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
		// Sent side by side from one socket: what arrives while a batch is written goes in the next.
		expect(spent('insert locked_envelopes')).toBeGreaterThan(0);
		expect(spent('insert locked_envelopes')).toBeLessThan(count);
		// The check that the id is not settled already (a resend after a cancel): one lookup each.
		expect(spent('find envelopes')).toBe(count);
		const listed = await call(erin.socket, 'timelock:list', {});
		expect(listed.items.map((e) => e.id)).toEqual(expect.arrayContaining(sent.map((s) => s.envelope.id)));
	});
});

describe('receipts', () => {
	it('records several ids in one call, only those addressed to the caller, each status to its real sender', async () => {
		const carol = await newUser(hub.url, uniqueName('carol'));
		clients.push(carol);
		const fromAlice = await alice.messenger.send(bob.username, 'one for bob');
		const fromCarol = await carol.messenger.send(bob.username, 'another for bob');
		const notBobs = await alice.messenger.send(carol.username, 'for carol only');
		const atAlice = waitForEvent(alice.socket, 'message:status', (s) => s.id === fromAlice.envelope.id);
		const atCarol = waitForEvent(carol.socket, 'message:status', (s) => s.id === fromCarol.envelope.id);
		const ids = [fromAlice.envelope.id, fromCarol.envelope.id, notBobs.envelope.id, fromAlice.envelope.id];
		expect(await call(bob.socket, 'message:received', { ids })).toEqual({ count: 2 });
		expect(await atAlice).toMatchObject({ status: 'delivered' });
		expect(await atCarol).toMatchObject({ status: 'delivered' });
		// Carol's message to herself-only was not marked delivered by bob.
		const carolPage = await carol.messenger.sync(notBobs.result.syncKey.slice(0, 15) + '-');
		expect(carolPage.delivered.map((d) => d.id)).not.toContain(notBobs.envelope.id);
		// A repeated receipt counts, but is not recorded (or announced) twice.
		expect(await call(bob.socket, 'message:received', { ids: [fromAlice.envelope.id] })).toEqual({
			count: 1,
		});
	});
});

describe('refusals (each with its code, the hub still up afterwards)', () => {
	it('refuses an envelope whose sender is not the signed-in user: SENDER_MISMATCH', async () => {
		const forged = envelopeFor(bob, alice, 'I am bob, honest');
		expect(await refusal(call(alice.socket, 'message:send', forged))).toBe('SENDER_MISMATCH');
		await hubStillAnswers(alice);
	});

	it('refuses a tampered ciphertext and a signature by another key: BAD_SIGNATURE', async () => {
		const envelope = envelopeFor(alice, bob, 'untouched');
		const bytes = fromB64(envelope.ciphertext);
		bytes[3] ^= 0x01;
		const tampered = { ...envelope, ciphertext: toB64(bytes) };
		expect(await refusal(call(alice.socket, 'message:send', tampered))).toBe('BAD_SIGNATURE');

		const mallory = generateIdentity();
		const signedByMallory = sealEnvelope(
			{ from: alice.username, to: bob.username, body: { type: 'text', text: 'trust me' } },
			mallory,
			bob.account.identity.boxPk,
		);
		expect(await refusal(call(alice.socket, 'message:send', signedByMallory))).toBe('BAD_SIGNATURE');
		expect(
			await db
				.collection('envelopes')
				.countDocuments({ _id: { $in: [envelope.id, signedByMallory.id] } as never }),
		).toBe(0);
		await hubStillAnswers(alice);
	});

	it('refuses a recipient that does not exist: UNKNOWN_RECIPIENT', async () => {
		const envelope = sealEnvelope(
			{ from: alice.username, to: uniqueName('ghost'), body: { type: 'text', text: 'anyone?' } },
			alice.account.identity,
			bob.account.identity.boxPk,
		);
		expect(await refusal(call(alice.socket, 'message:send', envelope))).toBe('UNKNOWN_RECIPIENT');
	});

	it('refuses a ciphertext over the limit: PAYLOAD_TOO_LARGE', async () => {
		const envelope = envelopeFor(alice, bob, 'small');
		const huge = {
			...envelope,
			ciphertext: 'A'.repeat(Math.ceil(((LIMITS.ciphertextMaxBytes + 1) * 4) / 3)),
		};
		expect(await refusal(call(alice.socket, 'message:send', huge))).toBe('PAYLOAD_TOO_LARGE');
		await hubStillAnswers(alice);
	});

	it('drops a connection whose frame exceeds the transport limit, and serves the next one', async () => {
		const heavy = await signInUser(hub.url, alice.username);
		clients.push(heavy);
		const dropped = waitForDisconnect(heavy.socket);
		heavy.socket.emit(
			'time:sync',
			{ padding: 'x'.repeat(LIMITS.socketFrameMaxBytes + 1024) } as never,
			() => {},
		);
		expect(await dropped).toMatch(/transport/);
		await heavy.reconnect();
		await hubStillAnswers(heavy);
	});

	it('answers malformed events with BAD_REQUEST and ignores events without an ack', async () => {
		const bad = (reply: unknown) =>
			(reply as Ack<unknown>).ok === false && (reply as { error: { code: string } }).error.code;
		expect(bad(await rawEmit(alice.socket, 'message:send', [{}]))).toBe('BAD_REQUEST');
		expect(bad(await rawEmit(alice.socket, 'message:send', ['not an envelope']))).toBe('BAD_REQUEST');
		expect(bad(await rawEmit(alice.socket, 'message:send', [null]))).toBe('BAD_REQUEST');
		expect(
			bad(await rawEmit(alice.socket, 'message:send', [{ ...envelopeFor(alice, bob, 'x'), extra: 1 }])),
		).toBe('BAD_REQUEST');
		expect(
			bad(await rawEmit(alice.socket, 'sync:pull', [{ after: null, limit: LIMITS.syncPageMax + 1 }])),
		).toBe('BAD_REQUEST');
		expect(bad(await rawEmit(alice.socket, 'message:received', [{ ids: ['not-a-uuid'] }]))).toBe(
			'BAD_REQUEST',
		);
		expect(bad(await rawEmit(alice.socket, 'time:sync', []))).toBe('BAD_REQUEST');
		expect(bad(await rawEmit(alice.socket, 'time:sync', [{}, 'extra']))).toBe('BAD_REQUEST');
		// No ack callback: nothing to answer, nothing stored, nothing crashes.
		const silent = envelopeFor(alice, bob, 'sent without an ack');
		(alice.socket as unknown as { emit(event: string, ...args: unknown[]): void }).emit(
			'message:send',
			silent,
		);
		(alice.socket as unknown as { emit(event: string, ...args: unknown[]): void }).emit('sync:pull', 42);
		// An event the protocol does not have gets no answer either.
		expect(await rawEmit(alice.socket, 'admin:drop-everything', [{}], 1_000)).toBeNull();
		await hubStillAnswers(alice);
		expect(alice.socket.connected).toBe(true);
		// Sent again with an ack, it is new to the hub: the silent send stored nothing.
		expect((await alice.messenger.sendEnvelope(silent)).duplicate).toBe(false);
	});

	it('keeps a fresh id unused after a refusal, so the message can be sent properly', async () => {
		const id = newMessageId();
		const forged = { ...envelopeFor(bob, alice, 'x'), id };
		expect(await refusal(call(alice.socket, 'message:send', forged))).toBe('SENDER_MISMATCH');
		const ok = await alice.messenger.send(bob.username, 'now properly', { id });
		expect(ok.result.duplicate).toBe(false);
	});
});

describe('unauthenticated sockets', () => {
	it('refuses a socket without a session cookie, and one with an unknown token: UNAUTHENTICATED', async () => {
		for (const cookie of [undefined, 'hg_session=not-a-real-session']) {
			const socket = connectHub(hub.url, { cookie, autoConnect: false });
			socket.io.opts.reconnection = false;
			const error = await waitForConnect(socket).then(
				() => null,
				(e: Error & { data?: { code?: string } }) => e,
			);
			socket.close();
			expect(error?.data?.code).toBe('UNAUTHENTICATED');
		}
		await hubStillAnswers(alice);
	});

	it('refuses a session that went unused past its expiry', async () => {
		// Its socket's handshake put the session in the hub's cache: the expiry must win over it.
		const idle = await signInUser(hub.url, bob.username);
		idle.close();
		clockOffset = hub.config.sessionDays * 86_400_000 + 60_000;
		try {
			const socket = connectHub(hub.url, { cookie: idle.api.cookieHeader(), autoConnect: false });
			socket.io.opts.reconnection = false;
			const error = await waitForConnect(socket).then(
				() => null,
				(e: Error & { data?: { code?: string } }) => e,
			);
			socket.close();
			expect(error?.data?.code).toBe('UNAUTHENTICATED');
			await expect(idle.api.session()).rejects.toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
		} finally {
			clockOffset = 0;
		}
	});
});
