import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEnvelope } from '../../src/lib/protocol';
import { timelockHooks } from '../../server/services/timelock';
import { openTestDb, type TestDb } from '../helpers/db';
import { startTestHub, type TestHub } from '../helpers/hub';
import { startRedis, type TestRedis } from '../helpers/redis';
import { newUser, signInUser, uniqueName, waitForEvent, type TestClient } from '../helpers/users';

const COUNT = 200;

let redis: TestRedis | undefined;
let hubA: TestHub;
let hubB: TestHub;
let db: TestDb;
let alice: TestClient;
let bob: TestClient;

// Both hubs refill often, so both hold every message in memory before it is due and both try to release it.
const hooks = () => timelockHooks({ scheduler: { refillEveryMs: 1_000, windowMs: 30_000 } });

beforeAll(async () => {
	redis = await startRedis();
	hubA = await startTestHub({ name: 'timelock_cluster', redisUrl: redis.url, hooks: hooks() });
	hubB = await startTestHub({
		name: 'timelock_cluster',
		redisUrl: redis.url,
		hooks: hooks(),
		mongoUri: hubA.mongoUri,
	});
	db = await openTestDb(hubA.mongoUri);
	alice = await newUser(hubA.url, uniqueName('alice'));
	// bob signs up on hub A but listens on hub B only.
	const bobSignup = await newUser(hubA.url, uniqueName('bob'));
	bobSignup.close();
	bob = await signInUser(hubB.url, bobSignup.username);
});

afterAll(async () => {
	alice?.close();
	bob?.close();
	await db?.close();
	await hubA?.stop();
	await hubB?.stop();
	await redis?.stop();
});

async function counter(hub: TestHub, name: string): Promise<number> {
	const metric = await hub.hub.context.metrics.registry.getSingleMetric(name)?.get();
	return metric?.values[0]?.value ?? 0;
}

const claimsLost = (hub: TestHub) => counter(hub, 'hourglass_timelock_claims_lost_total');
const releasedBy = (hub: TestHub) => counter(hub, 'hourglass_timelock_released_total');

describe('two hubs over one database, with Redis', () => {
	it(`release ${COUNT} messages due in the same second exactly once, to a recipient on the other hub`, async () => {
		const base = Date.now() + 8_000;
		// Signed before sending, so that sending is quick and every unlock is still ahead.
		const envelopes = [];
		for (let i = 0; i < COUNT; i += 1) {
			envelopes.push(
				await alice.messenger.seal(bob.username, `burst ${i}`, { unlockAt: base + ((i * 997) % 1_000) }),
			);
		}
		const unlockOf = new Map(envelopes.map((e) => [e.id, e.unlockAt ?? 0]));
		const heard = new Map<string, { at: number; envelope: StoredEnvelope }[]>();
		let resolveAll: () => void = () => {};
		const all = new Promise<void>((done) => (resolveAll = done));
		bob.socket.on('message:new', (envelope) => {
			if (!unlockOf.has(envelope.id)) return;
			const list = heard.get(envelope.id) ?? [];
			list.push({ at: Date.now(), envelope });
			heard.set(envelope.id, list);
			if (heard.size === COUNT) resolveAll();
		});

		for (let i = 0; i < COUNT; i += 20) {
			const results = await Promise.all(
				envelopes.slice(i, i + 20).map((e) => alice.messenger.sendEnvelope(e)),
			);
			expect(results.every((r) => r.state === 'locked')).toBe(true);
		}
		expect(Date.now()).toBeLessThan(base);
		expect(heard.size).toBe(0);

		await Promise.race([
			all,
			new Promise((_, fail) =>
				setTimeout(() => fail(new Error(`only ${heard.size} arrived`)), base + 60_000 - Date.now()),
			),
		]);
		// A last lock due after the burst: once it arrives, any late duplicate would have too.
		const sentinel = await alice.messenger.send(bob.username, 'after the burst', {
			unlockAt: Date.now() + 1_500,
		});
		await waitForEvent(bob.socket, 'message:new', (e) => e.id === sentinel.envelope.id, 15_000);

		const lateness: number[] = [];
		for (const [id, deliveries] of heard) {
			expect(deliveries, id).toHaveLength(1);
			expect(deliveries[0].envelope.state).toBe('released');
			lateness.push(deliveries[0].at - (unlockOf.get(id) ?? 0));
		}
		lateness.sort((a, b) => a - b);
		expect(lateness[0]).toBeGreaterThanOrEqual(0);

		// One settled copy each, released: the decision is that unique insert.
		const settled = await db
			.collection('envelopes')
			.find({ _id: { $in: [...unlockOf.keys()] as never[] } })
			.toArray();
		expect(settled).toHaveLength(COUNT);
		expect(settled.every((d) => d.state === 'released')).toBe(true);
		// Each hub counts what it released itself: together, every message once.
		const byHub = [await releasedBy(hubA), await releasedBy(hubB)];
		expect(byHub[0] + byHub[1]).toBe(COUNT + 1);
		// Both hubs went for these messages; the unique insert let exactly one win each.
		const lost = (await claimsLost(hubA)) + (await claimsLost(hubB));
		expect(lost).toBeGreaterThan(0);
		console.info(
			`cluster: ${COUNT} released once each; by hub ${byHub.join('/')}; claims lost ${lost}; ` +
				`lateness p50 ${lateness[Math.floor(COUNT / 2)]} ms, max ${lateness[COUNT - 1]} ms`,
		);
		// A correctness bound, not a performance goal (bench/timelock.ts measures that): on FerretDB's
		// SQLite backend every envelope update is serialised, so a burst of 200 takes seconds.
		expect(lateness[COUNT - 1]).toBeLessThan(45_000);
	}, 120_000);
});
