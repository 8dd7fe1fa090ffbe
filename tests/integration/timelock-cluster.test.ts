import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Envelope, StoredEnvelope } from '../../src/lib/protocol';
import { type TestDb, openTestDb } from '../helpers/db';
import {
	envelopeFinds,
	startHubProcess,
	startTestHub,
	testDatabaseUri,
	type HubProcess,
	type TestHub,
} from '../helpers/hub';
import { startThrottledProxy, type ThrottledProxy } from '../helpers/faults';
import { startRedis, type TestRedis } from '../helpers/redis';
import { newUser, signInUser, uniqueName, waitForEvent, type TestClient } from '../helpers/users';

const COUNT = 200;

const hubs: TestHub[] = [];
const processes: HubProcess[] = [];
const clients: TestClient[] = [];
const connections: TestDb[] = [];
const redises: TestRedis[] = [];
const proxies: ThrottledProxy[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'hourglass-timelock-cluster-'));

afterAll(async () => {
	for (const client of clients) client.close();
	for (const conn of connections) await conn.close();
	for (const hub of hubs) await hub.stop();
	for (const child of processes) await child.kill('SIGKILL');
	for (const proxy of proxies) await proxy.close();
	for (const redis of redises) await redis.stop();
	rmSync(dataDir, { recursive: true, force: true });
});

async function counter(hub: TestHub, name: string): Promise<number> {
	const metric = await hub.hub.context.metrics.registry.getSingleMetric(name)?.get();
	return metric?.values[0]?.value ?? 0;
}
const releasedBy = (hub: TestHub) => counter(hub, 'hourglass_timelock_released_total');
const claimsLost = (hub: TestHub) => counter(hub, 'hourglass_timelock_claims_lost_total');
const hubsAlive = (hub: TestHub) => counter(hub, 'hourglass_timelock_hubs_alive');

/** Every message:new for `ids` on `socket`, by id; resolves `all` once each has come at least once. */
function listen(client: TestClient, ids: Set<string>) {
	const heard = new Map<string, { at: number; envelope: StoredEnvelope }[]>();
	let resolveAll: () => void = () => {};
	const all = new Promise<void>((done) => (resolveAll = done));
	client.socket.on('message:new', (envelope) => {
		if (!ids.has(envelope.id)) return;
		const list = heard.get(envelope.id) ?? [];
		list.push({ at: Date.now(), envelope });
		heard.set(envelope.id, list);
		if (heard.size === ids.size) resolveAll();
	});
	const within = (ms: number) =>
		Promise.race([
			all,
			new Promise<never>((_, fail) =>
				setTimeout(() => fail(new Error(`only ${heard.size} of ${ids.size} arrived`)), ms),
			),
		]);
	return { heard, within };
}

/** `COUNT` locks from `sender` to `recipient`, signed ahead, unlocking over one second from `base`. */
async function burst(sender: TestClient, recipient: string, base: number): Promise<Envelope[]> {
	const envelopes: Envelope[] = [];
	for (let i = 0; i < COUNT; i += 1) {
		envelopes.push(
			await sender.messenger.seal(recipient, `burst ${i}`, { unlockAt: base + ((i * 997) % 1_000) }),
		);
	}
	return envelopes;
}

async function sendAll(sender: TestClient, envelopes: Envelope[]): Promise<void> {
	for (let i = 0; i < envelopes.length; i += 20) {
		const results = await Promise.all(
			envelopes.slice(i, i + 20).map((e) => sender.messenger.sendEnvelope(e)),
		);
		expect(results.every((r) => r.state === 'locked')).toBe(true);
	}
}

/** A burst from `sender` to `recipient` due from `base`, stored (each acknowledged as locked) while `recipient` listens. */
async function storeBurst(sender: TestClient, recipient: TestClient, base: number) {
	const envelopes = await burst(sender, recipient.username, base);
	const ids = new Set(envelopes.map((e) => e.id));
	const arrivals = listen(recipient, ids);
	await sendAll(sender, envelopes);
	return { ids, arrivals };
}

/** The settled copies of `ids` as stored: one each, released, and when the deciding hub stamped it. */
async function settledCopies(mongoUri: string, ids: string[]) {
	const conn = await openTestDb(mongoUri);
	connections.push(conn);
	return conn
		.collection<{ _id: string; state: string; releasedAt: number; unlockAt: number }>('envelopes')
		.find({ _id: { $in: ids } })
		.toArray();
}

/** A last lock, due after the burst: once it has arrived, a late duplicate of the burst would have too. */
async function sentinel(sender: TestClient, recipient: TestClient): Promise<void> {
	const last = await sender.messenger.send(recipient.username, 'after the burst', {
		unlockAt: Date.now() + 1_500,
	});
	await waitForEvent(recipient.socket, 'message:new', (e) => e.id === last.envelope.id, 15_000);
}

/**
 * A hub in a process of its own (the one a test kills; `doomedRedisUrl` is how it reaches Redis)
 * and two in this one, over one database; Alice signs up on the doomed hub and also signs in on
 * the second survivor, Bob is on the first.
 */
async function doomedAndSurvivors(name: string, redisUrl: string, doomedRedisUrl = redisUrl) {
	const mongoUri = testDatabaseUri(name);
	const doomed = await startHubProcess({
		mongoUri,
		redisUrl: doomedRedisUrl,
		env: { STATIC_DIR: join(dataDir, 'no-pwa') },
	});
	processes.push(doomed);
	const survivors = [
		await startTestHub({ name, redisUrl, mongoUri }),
		await startTestHub({ name, redisUrl, mongoUri }),
	];
	hubs.push(...survivors);
	const alice = await newUser(doomed.url, uniqueName('alice'));
	const bobSignup = await newUser(doomed.url, uniqueName('bob'));
	bobSignup.close();
	const bob = await signInUser(survivors[0].url, bobSignup.username);
	const aliceStays = await signInUser(survivors[1].url, alice.username);
	clients.push(alice, bob, aliceStays);
	return { mongoUri, doomed, survivors, alice, bob, aliceStays };
}

/**
 * SIGKILLs the doomed hub one second before `base` (the burst's first unlock), then checks that
 * the survivors released every lock once, none early and none a second late by the deciding
 * hub's stamp: their release counts and the sorted lateness.
 */
async function killBeforeAndCheck(
	{ mongoUri, doomed, survivors, bob, aliceStays }: Awaited<ReturnType<typeof doomedAndSurvivors>>,
	base: number,
	ids: Set<string>,
	{ heard, within }: ReturnType<typeof listen>,
): Promise<{ byHub: number[]; lateness: number[] }> {
	const killAt = base - 1_000;
	expect(Date.now()).toBeLessThan(killAt);
	await new Promise((done) => setTimeout(done, killAt - Date.now()));
	await doomed.kill('SIGKILL');

	await within(base + 30_000 - Date.now());
	await sentinel(aliceStays, bob);
	for (const [id, deliveries] of heard) expect(deliveries, id).toHaveLength(1);
	const settled = await settledCopies(mongoUri, [...ids]);
	expect(settled).toHaveLength(COUNT);
	expect(settled.every((d) => d.state === 'released')).toBe(true);
	// The hub's own stamp: how long after its unlock time the deciding hub released each lock.
	const lateness = settled.map((d) => d.releasedAt - d.unlockAt).sort((a, b) => a - b);
	expect(lateness[0]).toBeGreaterThanOrEqual(0);
	expect(lateness[COUNT - 1]).toBeLessThan(1_000);
	const byHub = await Promise.all(survivors.map(releasedBy));
	expect(byHub.reduce((a, b) => a + b, 0)).toBe(COUNT + 1);
	return { byHub, lateness };
}

describe('time-locks across several hubs', () => {
	it(`three hubs with Redis share out ${COUNT} locks due in one second: each released once, live on another hub`, async () => {
		const redis = await startRedis();
		redises.push(redis);
		const first = await startTestHub({ name: 'timelock_three', redisUrl: redis.url });
		hubs.push(first);
		const others = [
			await startTestHub({ name: 'timelock_three', redisUrl: redis.url, mongoUri: first.mongoUri }),
			await startTestHub({ name: 'timelock_three', redisUrl: redis.url, mongoUri: first.mongoUri }),
		];
		hubs.push(...others);
		const three = [first, ...others];
		const alice = await newUser(first.url, uniqueName('alice'));
		const bobSignup = await newUser(first.url, uniqueName('bob'));
		bobSignup.close();
		const bob = await signInUser(others[0].url, bobSignup.username);
		clients.push(alice, bob);

		const base = Date.now() + 6_000;
		const {
			ids,
			arrivals: { heard, within },
		} = await storeBurst(alice, bob, base);
		expect(Date.now()).toBeLessThan(base);
		expect(heard.size).toBe(0);

		await within(base + 30_000 - Date.now());
		await sentinel(alice, bob);
		for (const [id, deliveries] of heard) {
			expect(deliveries, id).toHaveLength(1);
			expect(deliveries[0].envelope.state).toBe('released');
			expect(deliveries[0].envelope.releasedAt ?? 0).toBeGreaterThanOrEqual(
				deliveries[0].envelope.unlockAt ?? 0,
			);
		}
		const settled = await settledCopies(first.mongoUri, [...ids]);
		expect(settled).toHaveLength(COUNT);
		expect(settled.every((d) => d.state === 'released')).toBe(true);
		// Every hub took its share, though every lock was stored through the first one; together, each once.
		const byHub = await Promise.all(three.map(releasedBy));
		expect(byHub.reduce((a, b) => a + b, 0)).toBe(COUNT + 1);
		expect(byHub.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
		// Bob's receipt reaches his hub, which released only its share: the others said which they
		// released, so it knows every one of them and reads none.
		const findsBefore = await envelopeFinds(others[0]);
		const statuses = new Set<string>();
		const allStatuses = new Promise<void>((done) =>
			alice.socket.on('message:status', (status) => {
				if (ids.has(status.id)) statuses.add(status.id);
				if (statuses.size === ids.size) done();
			}),
		);
		await bob.messenger.receipt([...ids]);
		await allStatuses;
		expect(await envelopeFinds(others[0])).toBe(findsBefore);
	}, 120_000);

	it('a hub killed one second before a burst falls due: the other hubs release each lock once, within a second', async () => {
		const redis = await startRedis();
		redises.push(redis);
		const three = await doomedAndSurvivors('timelock_kill', redis.url);
		const { alice, bob } = three;
		const base = Date.now() + 8_000;
		// All stored and acknowledged through the hub that is about to die, well before the window.
		const { ids, arrivals } = await storeBurst(alice, bob, base);
		alice.close();
		const { byHub, lateness } = await killBeforeAndCheck(three, base, ids, arrivals);
		console.info(
			`kill: ${COUNT} released once each by the survivors (${byHub.join('/')}); ` +
				`hub lateness p50 ${lateness[COUNT / 2]} ms, max ${lateness[COUNT - 1]} ms`,
		);
	}, 120_000);

	it('a hub whose notices of its locks were lost, and that dies: the others learn of the loss when it is back, and release each lock once, on time', async () => {
		const redis = await startRedis();
		redises.push(redis);
		// The doomed hub reaches Redis through a hop the test can cut; the others directly.
		const link = await startThrottledProxy(redis.url, 1e9);
		proxies.push(link);
		const three = await doomedAndSurvivors('timelock_unheard', redis.url, link.url);
		const { alice, bob, survivors } = three;
		const hubsSeen = async (n: number) => (await Promise.all(survivors.map(hubsAlive))).every((m) => m === n);
		await expect.poll(() => hubsSeen(3), { timeout: 15_000 }).toBe(true);

		// Cut off from Redis, the hub still stores locks (the database is there); its notices of
		// them go nowhere, and the others count it out.
		link.cut();
		await expect.poll(() => hubsSeen(2)).toBe(true);
		const base = Date.now() + 12_000;
		const { ids, arrivals } = await storeBurst(alice, bob, base);
		alice.close();
		// Back: its heartbeat counts notices the others never had, so they read every lock again.
		link.restore();
		await expect.poll(() => hubsSeen(3), { timeout: 15_000 }).toBe(true);
		await killBeforeAndCheck(three, base, ids, arrivals);
	}, 120_000);

	it('two hubs that cannot see each other (no Redis) both go for every lock: the unique insert lets one win each', async () => {
		const first = await startTestHub({ name: 'timelock_blind' });
		hubs.push(first);
		const alice = await newUser(first.url, uniqueName('alice'));
		const bob = await newUser(first.url, uniqueName('bob'));
		clients.push(alice, bob);

		const base = Date.now() + 8_000;
		const envelopes = await burst(alice, bob.username, base);
		const ids = [...new Set(envelopes.map((e) => e.id))];
		await sendAll(alice, envelopes);
		// A second hub over the same database, without the adapter that would tell the first one it
		// exists: its start reads every pending lock, so both hold all of them when they fall due.
		const second = await startTestHub({ name: 'timelock_blind', mongoUri: first.mongoUri });
		hubs.push(second);
		expect(Date.now()).toBeLessThan(base);

		const conn = await openTestDb(first.mongoUri);
		connections.push(conn);
		const settled = conn.collection<{ _id: string; state: string }>('envelopes');
		await expect
			.poll(() => settled.countDocuments({ _id: { $in: ids } }), { timeout: base + 30_000 - Date.now() })
			.toBe(COUNT);
		await expect
			.poll(() => conn.collection('locked_envelopes').countDocuments({}), { timeout: 10_000 })
			.toBe(0);
		expect(await settled.countDocuments({ _id: { $in: ids }, state: 'released' })).toBe(COUNT);
		// Released once in all: the hubs' own counts add up to the number of locks.
		expect((await releasedBy(first)) + (await releasedBy(second))).toBe(COUNT);
		// Both went for these messages; the unique insert let exactly one win each.
		expect((await claimsLost(first)) + (await claimsLost(second))).toBeGreaterThan(0);
		// And the recipient's history holds each once.
		const synced = (await bob.messenger.syncAll(null)).messages.filter((m) => ids.includes(m.id));
		expect(synced.map((m) => m.id).sort()).toEqual([...ids].sort());
	}, 120_000);
});
