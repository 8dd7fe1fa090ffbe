import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub';
import { startRedis, type TestRedis } from '../helpers/redis';
import { call, connectHub } from '../../src/lib/sdk';
import {
	newUser,
	signInUser,
	uniqueName,
	waitForConnect,
	waitForDisconnect,
	waitForEvent,
	type TestClient,
} from '../helpers/users';

let redis: TestRedis;
let hubA: TestHub;
let hubB: TestHub;
const clients: TestClient[] = [];

beforeAll(async () => {
	redis = await startRedis();
	hubA = await startTestHub({ name: 'cluster', redisUrl: redis.url });
	hubB = await startTestHub({ name: 'cluster', redisUrl: redis.url, mongoUri: hubA.mongoUri });
});

afterAll(async () => {
	for (const client of clients) client.close();
	await hubA?.stop();
	await hubB?.stop();
	await redis?.stop();
});

describe('two hubs over one database and Redis', () => {
	it('relay a message live to a recipient connected to the other hub, and its receipt back', async () => {
		const alice = await newUser(hubA.url, uniqueName('alice'));
		const bob = await newUser(hubB.url, uniqueName('bob'));
		const aliceOnB = await signInUser(hubB.url, alice.username);
		clients.push(alice, bob, aliceOnB);

		const atBob = waitForEvent(bob.socket, 'message:new', (e) => e.from === alice.username);
		const atAliceOnB = waitForEvent(aliceOnB.socket, 'message:new', (e) => e.from === alice.username);
		const sent = await alice.messenger.send(bob.username, 'across hubs');
		expect((await bob.messenger.open(await atBob)).text).toBe('across hubs');
		expect((await atAliceOnB).id).toBe(sent.envelope.id);

		const status = waitForEvent(alice.socket, 'message:status', (s) => s.id === sent.envelope.id);
		await bob.messenger.receipt([sent.envelope.id]);
		expect((await status).status).toBe('delivered');
	});

	it('record receipts on a hub that did not store the envelopes: only those addressed to the caller', async () => {
		const alice = await newUser(hubA.url, uniqueName('alice'));
		const bob = await newUser(hubB.url, uniqueName('bob'));
		const carol = await newUser(hubA.url, uniqueName('carol'));
		clients.push(alice, bob, carol);
		// A few ids and many take different reads (by id, by recipient): both are checked.
		const sent: string[] = [];
		for (let i = 0; i < 20; i++) sent.push((await alice.messenger.send(bob.username, `m${i}`)).envelope.id);
		const notBobs = (await alice.messenger.send(carol.username, 'for carol')).envelope.id;
		const statuses: string[] = [];
		alice.socket.on('message:status', (s) => statuses.push(s.id));
		const last = waitForEvent(alice.socket, 'message:status', (s) => s.id === sent[19]);
		expect(await call(bob.socket, 'message:received', { ids: [sent[0], sent[1], notBobs] })).toEqual({
			count: 2,
		});
		expect(await call(bob.socket, 'message:received', { ids: [...sent, notBobs] })).toEqual({ count: 20 });
		await last;
		expect(new Set(statuses)).toEqual(new Set(sent));
		expect(await call(bob.socket, 'message:received', { ids: [notBobs] })).toEqual({ count: 0 });
	});

	it('end a session on every hub at logout, including its sockets on the other hub', async () => {
		const carol = await newUser(hubA.url, uniqueName('carol'));
		clients.push(carol);
		const sameSessionOnB = connectHub(hubB.url, { cookie: carol.api.cookieHeader() });
		await waitForConnect(sameSessionOnB);
		const ended = waitForEvent(sameSessionOnB, 'session:ended');
		const dropped = waitForDisconnect(sameSessionOnB);
		await carol.api.logout();
		expect(await ended).toEqual({ reason: 'logout' });
		expect(await dropped).toBe('io server disconnect');
		sameSessionOnB.close();
	});

	it('let no new socket in on the other hub after the logout reply, though that hub had the session cached', async () => {
		const dave = await newUser(hubA.url, uniqueName('dave'));
		clients.push(dave);
		// A handshake on hub B puts the session in B's cache.
		const onB = connectHub(hubB.url, { cookie: dave.api.cookieHeader() });
		await waitForConnect(onB);
		onB.close();
		const stolenCookie = dave.api.cookieHeader();
		await dave.api.logout();
		const again = connectHub(hubB.url, { cookie: stolenCookie, autoConnect: false });
		again.io.opts.reconnection = false;
		const error = await waitForConnect(again).then(
			() => null,
			(e: Error & { data?: { code?: string } }) => e,
		);
		again.close();
		expect(error?.data?.code).toBe('UNAUTHENTICATED');
	});
});
