import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/lib/crypto';
import {
	ProtocolError,
	type Cancelled,
	type SealedNotice,
	type StoredEnvelope,
} from '../../src/lib/protocol';
import { call, type HubSocket } from '../../src/lib/sdk';
import { type TestDb, openTestDb } from '../helpers/db';
import { fetchMetrics, startTestHub, type TestHub } from '../helpers/hub';
import {
	newUser,
	rawEmit,
	signInUser,
	uniqueName,
	waitForEvent,
	type TestClient,
	refusal,
} from '../helpers/users';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let hub: TestHub;
let db: TestDb;
let alice: TestClient;
let aliceLaptop: TestClient;
let bob: TestClient;
let bobPhone: TestClient;
let carol: TestClient;

/** Everything a socket is told, with the local time it arrived: to prove what did NOT arrive. */
interface Heard {
	messageNew: { at: number; envelope: StoredEnvelope }[];
	sealed: SealedNotice[];
	cancelled: Cancelled[];
}

const heard = new Map<HubSocket, Heard>();

function listen(socket: HubSocket): Heard {
	const log: Heard = { messageNew: [], sealed: [], cancelled: [] };
	socket.on('message:new', (envelope) => log.messageNew.push({ at: Date.now(), envelope }));
	socket.on('timelock:sealed', (notice) => log.sealed.push(notice));
	socket.on('timelock:cancelled', (event) => log.cancelled.push(event));
	heard.set(socket, log);
	return log;
}

function tracesOf(socket: HubSocket, id: string) {
	const log = heard.get(socket);
	if (!log) throw new Error('socket not listened to');
	return {
		messageNew: log.messageNew.filter((m) => m.envelope.id === id),
		sealed: log.sealed.filter((n) => n.id === id),
		cancelled: log.cancelled.filter((c) => c.id === id),
	};
}

beforeAll(async () => {
	hub = await startTestHub({
		name: 'timelock',
		env: { TIMELOCK_HORIZON_DAYS: '30' },
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

/** Every path by which the recipient could learn of `id` early: none may show it. */
async function expectNoTraceForRecipient(id: string, options: { announced: boolean }) {
	const page = await bob.messenger.syncAll(null);
	expect(page.messages.map((m) => m.id)).not.toContain(id);
	const raw = await call(bob.socket, 'sync:pull', { after: null, limit: 500 });
	expect(raw.envelopes.map((e) => e.id)).not.toContain(id);
	expect(raw.sealed.map((n) => n.id).includes(id)).toBe(options.announced);
	// A receipt for it counts nothing and records nothing.
	expect(await call(bob.socket, 'message:received', { ids: [id] })).toEqual({ count: 0 });
	expect(await db.collection('receipts').countDocuments({ _id: id as never })).toBe(0);
	// The recipient's own list holds only what they sent.
	expect((await call(bob.socket, 'timelock:list', {})).items.map((e) => e.id)).not.toContain(id);
	// Cancelling it says "not yours" only if the recipient may know it exists.
	expect(await refusal(call(bob.socket, 'timelock:cancel', { id }))).toBe(
		options.announced ? 'FORBIDDEN' : 'NOT_FOUND',
	);
	for (const socket of [bob.socket, bobPhone.socket]) {
		const traces = tracesOf(socket, id);
		expect(traces.messageNew).toEqual([]);
		expect(traces.sealed).toHaveLength(options.announced ? 1 : 0);
		for (const notice of traces.sealed) expect(notice).not.toHaveProperty('ciphertext');
	}
}

describe('a short time-lock', () => {
	for (const announced of [false, true]) {
		it(`${announced ? 'announced' : 'not announced'}: nothing reaches the recipient early, then it arrives live on every device within a second`, async () => {
			// Long enough for every "not yet" check below to run before it, on a loaded CI machine too.
			const unlockAt = Date.now() + 4_000;
			const onBob = waitForEvent(bob.socket, 'message:new', (e) => e.unlockAt === unlockAt, 10_000);
			const onPhone = waitForEvent(bobPhone.socket, 'message:new', (e) => e.unlockAt === unlockAt, 10_000);
			const onLaptop = waitForEvent(
				aliceLaptop.socket,
				'message:new',
				(e) => e.unlockAt === unlockAt && e.state === 'released',
				10_000,
			);
			const text = `sealed until ${unlockAt}`;
			const sent = await alice.messenger.send(bob.username, text, { unlockAt, announce: announced });
			const id = sent.envelope.id;
			expect(sent.result.state).toBe('locked');

			if (announced) await waitForEvent(bobPhone.socket, 'timelock:sealed', (n) => n.id === id);
			await expectNoTraceForRecipient(id, { announced });
			// The sender, on every device, sees it in the sealed list.
			const listed = await call(aliceLaptop.socket, 'timelock:list', {});
			expect(listed.items.find((e) => e.id === id)).toMatchObject({ state: 'locked', unlockAt });
			expect(Date.now()).toBeLessThan(unlockAt);

			const [live, phone, laptop] = await Promise.all([onBob, onPhone, onLaptop]);
			const arrivedAt = Date.now();
			for (const envelope of [live, phone, laptop]) {
				expect(envelope).toMatchObject({ id, state: 'released', unlockAt, announce: announced });
				expect(envelope.releasedAt).toBeGreaterThanOrEqual(unlockAt);
				expect(envelope.releasedAt).toBeLessThan(unlockAt + 1_000);
			}
			const delivery = tracesOf(bob.socket, id).messageNew[0];
			expect(delivery.at).toBeGreaterThanOrEqual(unlockAt);
			expect(delivery.at - unlockAt).toBeLessThan(1_000);
			expect(arrivedAt - unlockAt).toBeLessThan(1_500);
			const opened = await bob.messenger.open(live);
			expect(opened).toMatchObject({ text, state: 'released', problem: null });

			// Now every path has it, once, and the sender's list no longer does.
			const page = await bob.messenger.syncAll(null);
			expect(page.messages.filter((m) => m.id === id)).toHaveLength(1);
			expect(await call(bob.socket, 'message:received', { ids: [id] })).toEqual({ count: 1 });
			expect((await call(alice.socket, 'timelock:list', {})).items.map((e) => e.id)).not.toContain(id);
			expect(await db.collection('envelopes').findOne({ _id: id as never })).toMatchObject({
				state: 'released',
			});
			// The locked copy goes once the hub has a quiet moment.
			await expect
				.poll(() => db.collection('locked_envelopes').countDocuments({ _id: id as never }), {
					timeout: 5_000,
				})
				.toBe(0);
			for (const socket of [bob.socket, bobPhone.socket]) {
				expect(tracesOf(socket, id).messageNew).toHaveLength(1);
			}
		});
	}
});

describe('cancelling', () => {
	it('stops a message for good: the sender’s devices and (announced) the recipient are told, nobody receives it', async () => {
		const unlockAt = Date.now() + 1_500;
		const cancelledOnBob = waitForEvent(bob.socket, 'timelock:cancelled', (c) => c.from === alice.username);
		const cancelledOnAlice = waitForEvent(
			alice.socket,
			'timelock:cancelled',
			(c) => c.from === alice.username,
		);
		const doomed = await alice.messenger.send(bob.username, 'never mind', { unlockAt, announce: true });
		const id = doomed.envelope.id;
		// A later lock: when it arrives, the cancelled one would long have been released.
		const sentinel = await alice.messenger.send(bob.username, 'after', { unlockAt: unlockAt + 300 });
		const sentinelArrives = waitForEvent(bob.socket, 'message:new', (e) => e.id === sentinel.envelope.id);

		// The sender's laptop has synced past the locked envelope before the cancel.
		const laptopBefore = await aliceLaptop.messenger.syncAll(null);
		expect(laptopBefore.messages.find((m) => m.id === id)).toMatchObject({ state: 'locked' });
		expect(await call(aliceLaptop.socket, 'timelock:cancel', { id })).toEqual({ id, outcome: 'cancelled' });
		expect(await cancelledOnAlice).toEqual({ id, from: alice.username, to: bob.username });
		expect(await cancelledOnBob).toEqual({ id, from: alice.username, to: bob.username });
		expect((await call(alice.socket, 'timelock:list', {})).items.map((e) => e.id)).not.toContain(id);
		expect(await refusal(call(alice.socket, 'timelock:cancel', { id }))).toBe('NOT_CANCELLABLE');

		await sentinelArrives;
		expect(tracesOf(bob.socket, id).messageNew).toEqual([]);
		expect(tracesOf(bobPhone.socket, id).messageNew).toEqual([]);
		expect((await bob.messenger.syncAll(null)).messages.map((m) => m.id)).not.toContain(id);
		expect(await db.collection('envelopes').findOne({ _id: id as never })).toMatchObject({
			state: 'cancelled',
		});
		expect(await db.collection('locked_envelopes').countDocuments({ _id: id as never })).toBe(0);
		// The sender's own history keeps it, as cancelled, and a device past the locked one learns of it.
		const own = await alice.messenger.syncAll(null);
		expect(own.messages.find((m) => m.id === id)).toMatchObject({ state: 'cancelled' });
		const laptopAfter = await aliceLaptop.messenger.sync(laptopBefore.cursor);
		expect(laptopAfter.messages.filter((m) => m.id === id)).toMatchObject([{ state: 'cancelled' }]);
	});

	/** When each cancel is sent, relative to its message's unlock time (ms). */
	const RACE_OFFSETS = [-800, -400, -200, -100, -60, -40, -20, 0, 20, 40];

	it('cancel versus release, raced many times: one outcome, the same for both sides', async () => {
		const trials = 30;
		const base = Date.now() + 2_000;
		const sent = await Promise.all(
			Array.from({ length: trials }, async (_, i) => {
				const unlockAt = base + i * 60;
				const { envelope } = await alice.messenger.send(bob.username, `race ${i}`, {
					unlockAt,
					announce: true,
				});
				return { id: envelope.id, unlockAt, offset: RACE_OFFSETS[i % RACE_OFFSETS.length] };
			}),
		);
		// Each cancel is sent between 800 ms before and 40 ms after its message's unlock time, most of them
		// within 100 ms of it, on purpose: the race. The early ones stay ahead of the release even when a
		// loaded machine takes a few hundred milliseconds to answer a cancel (under the full suite, every
		// cancel sent 100 ms early once arrived too late), so both outcomes are seen.
		const outcomes = await Promise.all(
			sent.map(
				({ id, unlockAt, offset }) =>
					new Promise<{ id: string; outcome: string }>((resolve) => {
						setTimeout(
							() => {
								call(aliceLaptop.socket, 'timelock:cancel', { id }).then(
									() => resolve({ id, outcome: 'cancelled' }),
									(error: unknown) =>
										resolve({ id, outcome: error instanceof ProtocolError ? error.code : String(error) }),
								);
							},
							Math.max(0, unlockAt + offset - Date.now()),
						);
					}),
			),
		);
		const sentinel = await alice.messenger.send(bob.username, 'after the race', {
			unlockAt: Math.max(Date.now(), base + trials * 60) + 500,
		});
		await waitForEvent(bob.socket, 'message:new', (e) => e.id === sentinel.envelope.id, 15_000);
		// The sender's own event for the last decision may trail the recipient's by a moment.
		const lastId = sent[trials - 1].id;
		if (!tracesOf(alice.socket, lastId).messageNew.some((m) => m.envelope.state === 'released')) {
			await waitForEvent(alice.socket, 'message:new', (e) => e.id === lastId, 2_000).catch(() => undefined);
		}

		const counts = { cancelled: 0, released: 0 };
		for (const { id, outcome } of outcomes) {
			expect(['cancelled', 'ALREADY_RELEASED']).toContain(outcome);
			const envelope = await db.collection('envelopes').findOne({ _id: id as never });
			const recipient = tracesOf(bob.socket, id);
			const sender = tracesOf(alice.socket, id);
			if (outcome === 'cancelled') {
				counts.cancelled += 1;
				expect(envelope?.state).toBe('cancelled');
				expect(recipient.messageNew).toEqual([]);
				expect(recipient.cancelled).toHaveLength(1);
				expect(sender.cancelled).toHaveLength(1);
				expect(sender.messageNew.filter((m) => m.envelope.state === 'released')).toEqual([]);
			} else {
				counts.released += 1;
				expect(envelope?.state).toBe('released');
				expect(recipient.messageNew).toHaveLength(1);
				expect(recipient.cancelled).toEqual([]);
				expect(sender.cancelled).toEqual([]);
				expect(sender.messageNew.filter((m) => m.envelope.state === 'released')).toHaveLength(1);
			}
		}
		// Both outcomes happened: the race was real.
		expect(counts.cancelled).toBeGreaterThan(0);
		expect(counts.released).toBeGreaterThan(0);
	});
});

describe('a decision whose locked copy a crashed hub left behind', () => {
	/** What a hub that died right after its decision leaves: the settled copy, and the locked one. */
	async function decideBehindTheHub(id: string, state: 'released' | 'cancelled'): Promise<void> {
		const locked = await db.collection('locked_envelopes').findOne({ _id: id as never });
		expect(locked).not.toBeNull();
		const at = Date.now();
		await db
			.collection('envelopes')
			.insertOne({ ...locked, state, releasedAt: state === 'released' ? at : null, syncAt: at } as never);
	}

	it('a release stands once: the copy is dropped, the message is listed nowhere as locked and synced once', async () => {
		const unlockAt = Date.now() + 1_200;
		const sent = await alice.messenger.send(bob.username, 'decided elsewhere', { unlockAt, announce: true });
		const id = sent.envelope.id;
		await decideBehindTheHub(id, 'released');
		// Settled already: the sender's list and the recipient's sealed notices leave it out at once.
		expect((await call(alice.socket, 'timelock:list', {})).items.map((e) => e.id)).not.toContain(id);
		expect((await bob.messenger.sync(null)).sealed.map((n) => n.id)).not.toContain(id);
		// At its unlock this hub finds it decided: nothing is released twice, and the copy goes.
		await expect
			.poll(() => db.collection('locked_envelopes').countDocuments({ _id: id as never }), { timeout: 6_000 })
			.toBe(0);
		expect(Date.now()).toBeGreaterThanOrEqual(unlockAt);
		expect(tracesOf(bob.socket, id).messageNew).toEqual([]);
		const page = await bob.messenger.syncAll(null);
		expect(page.messages.filter((m) => m.id === id)).toHaveLength(1);
		expect(await refusal(call(alice.socket, 'timelock:cancel', { id }))).toBe('ALREADY_RELEASED');
	});

	it('a cancel stands: the recipient never receives it, and the copy is dropped', async () => {
		const unlockAt = Date.now() + 1_200;
		const sent = await alice.messenger.send(bob.username, 'cancelled elsewhere', {
			unlockAt,
			announce: true,
		});
		const id = sent.envelope.id;
		await decideBehindTheHub(id, 'cancelled');
		expect((await call(alice.socket, 'timelock:list', {})).items.map((e) => e.id)).not.toContain(id);
		expect((await bob.messenger.sync(null)).sealed.map((n) => n.id)).not.toContain(id);
		expect(await refusal(call(alice.socket, 'timelock:cancel', { id }))).toBe('NOT_CANCELLABLE');
		await expect
			.poll(() => db.collection('locked_envelopes').countDocuments({ _id: id as never }), { timeout: 6_000 })
			.toBe(0);
		expect(tracesOf(bob.socket, id).messageNew).toEqual([]);
		expect((await bob.messenger.syncAll(null)).messages.map((m) => m.id)).not.toContain(id);
		expect(await db.collection('envelopes').findOne({ _id: id as never })).toMatchObject({
			state: 'cancelled',
		});
	});
});

describe('bad input', () => {
	it('gets a clear code each time, and loses nothing', async () => {
		const keep = await alice.messenger.send(bob.username, 'kept', { unlockAt: Date.now() + HOUR });
		expect(await refusal(alice.messenger.send(bob.username, 'past', { unlockAt: Date.now() - 1_000 }))).toBe(
			'UNLOCK_IN_PAST',
		);
		expect(
			await refusal(alice.messenger.send(bob.username, 'far', { unlockAt: Date.now() + 31 * DAY })),
		).toBe('UNLOCK_TOO_FAR');
		const envelope = await alice.messenger.seal(bob.username, 'not a date', { unlockAt: Date.now() + HOUR });
		const notADate = await rawEmit(alice.socket, 'message:send', [{ ...envelope, unlockAt: 'tomorrow' }]);
		expect(notADate).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });

		// Cancelling: someone else's, a live message, an unknown id, a malformed id.
		expect(await refusal(call(carol.socket, 'timelock:cancel', { id: keep.envelope.id }))).toBe('NOT_FOUND');
		const live = await alice.messenger.send(bob.username, 'live');
		expect(await refusal(call(alice.socket, 'timelock:cancel', { id: live.envelope.id }))).toBe(
			'NOT_CANCELLABLE',
		);
		expect(await refusal(call(bob.socket, 'timelock:cancel', { id: live.envelope.id }))).toBe('FORBIDDEN');
		expect(await refusal(call(alice.socket, 'timelock:cancel', { id: newMessageId() }))).toBe('NOT_FOUND');
		expect(await rawEmit(alice.socket, 'timelock:cancel', [{ id: 'nope' }])).toMatchObject({
			ok: false,
			error: { code: 'BAD_REQUEST' },
		});
		expect(await rawEmit(alice.socket, 'timelock:list', [{ user: bob.username }])).toMatchObject({
			ok: false,
			error: { code: 'BAD_REQUEST' },
		});

		// A cancel after the release: ALREADY_RELEASED, and the message stays delivered.
		const quick = await alice.messenger.send(bob.username, 'quick', { unlockAt: Date.now() + 800 });
		const arrived = await waitForEvent(bob.socket, 'message:new', (e) => e.id === quick.envelope.id);
		expect(arrived.state).toBe('released');
		expect(await refusal(call(alice.socket, 'timelock:cancel', { id: quick.envelope.id }))).toBe(
			'ALREADY_RELEASED',
		);
		// Delivered: the recipient knows of it, but it is not theirs to cancel.
		expect(await refusal(call(bob.socket, 'timelock:cancel', { id: quick.envelope.id }))).toBe('FORBIDDEN');

		// Nothing was lost: the kept lock is still listed, the released message still synced.
		const listed = await call(alice.socket, 'timelock:list', {});
		expect(listed.items.map((e) => e.id)).toContain(keep.envelope.id);
		const page = await bob.messenger.syncAll(null);
		expect(page.messages.find((m) => m.id === quick.envelope.id)).toMatchObject({ text: 'quick' });
		expect(page.messages.find((m) => m.id === live.envelope.id)).toMatchObject({ text: 'live' });
	});
});

describe('what an operator sees', () => {
	it('exposes releases, lateness, cancels and the waiting count in /metrics', async () => {
		const text = await fetchMetrics(hub);
		const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
		expect(value('hourglass_timelock_released_total')).toBeGreaterThanOrEqual(3);
		expect(value('hourglass_timelock_cancelled_total')).toBeGreaterThanOrEqual(1);
		expect(value('hourglass_timelock_release_lateness_seconds_count')).toBe(
			value('hourglass_timelock_released_total'),
		);
		expect(value('hourglass_timelock_waiting')).toBeGreaterThanOrEqual(0);
		// Counts only: no envelope content reaches the metrics.
		expect(text).not.toContain('ciphertext');
	});
});
