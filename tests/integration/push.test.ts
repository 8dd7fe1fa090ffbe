import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_LIMITS, ROUTES } from '../../src/lib/protocol';
import { deleteAccount } from '../../src/lib/sdk';
import { fetchMetrics, startTestHub, type TestHub } from '../helpers/hub';
import { LocalPushService, type BrowserSubscription } from '../helpers/push-service';
import {
	TEST_PASSWORD,
	apiRefusal,
	newUser,
	signInUser,
	uniqueName,
	type TestClient,
} from '../helpers/users';

let hub: TestHub;
let service: LocalPushService;
let vapidKey = '';
let dataDir: string;
const clients: TestClient[] = [];
/** A push endpoint that takes connections and never answers. */
let hanging: Server;
const hangingSockets: Socket[] = [];

beforeAll(async () => {
	dataDir = mkdtempSync(join(tmpdir(), 'hourglass-push-'));
	hub = await startTestHub({
		name: 'push',
		env: {
			DATA_DIR: dataDir,
			PUSH_ENDPOINT_HOSTS: '127.0.0.1',
			PUSH_ALLOW_HTTP_LOOPBACK: 'true',
			PUSH_COALESCE_SECONDS: '30',
		},
	});
	service = await LocalPushService.start(() => vapidKey);
	hanging = createServer((socket) => hangingSockets.push(socket));
	await new Promise<void>((done) => hanging.listen(0, '127.0.0.1', done));
});

afterAll(async () => {
	for (const client of clients) client.close();
	for (const socket of hangingSockets) socket.destroy();
	hanging?.close();
	await hub?.stop();
	await service?.stop();
	if (dataDir) rmSync(dataDir, { recursive: true, force: true });
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

async function sessionIdOf(client: TestClient): Promise<string> {
	const { sessions } = await client.api.sessions();
	const current = sessions.find((s) => s.current);
	if (!current) throw new Error('no current session');
	return current.id;
}

/** Closes the device's socket and waits until no hub holds one of its session. */
async function goOffline(client: TestClient): Promise<void> {
	const id = await sessionIdOf(client);
	client.close();
	await expect
		.poll(async () => (await hub.hub.io.in(`session:${id}`).fetchSockets()).length, { timeout: 15_000 })
		.toBe(0);
}

async function pushCount(outcome: string): Promise<number> {
	const text = await fetchMetrics(hub);
	const line = text.split('\n').find((l) => l.startsWith(`hourglass_push_total{outcome="${outcome}"}`));
	return line ? Number(line.split(' ').pop()) : 0;
}

/** A device subscribed to the local push service, then gone offline (the app closed). */
async function closedApp(of: TestClient): Promise<{ client: TestClient; sub: BrowserSubscription }> {
	const client = await device(of);
	const sub = service.subscribe();
	expect(await client.api.subscribePush(sub)).toEqual({ enabled: true });
	await goOffline(client);
	return { client, sub };
}

describe('the VAPID key', () => {
	it('is a P-256 public key, made once and kept (mode 0600) in DATA_DIR', async () => {
		const alice = await user('keyholder');
		const { publicKey } = await alice.api.pushKey();
		vapidKey = publicKey;
		const point = Buffer.from(publicKey, 'base64url');
		expect(point).toHaveLength(PUSH_LIMITS.p256dhBytes);
		expect(point[0]).toBe(4);
		expect(statSync(join(dataDir, 'vapid.json')).mode & 0o777).toBe(0o600);
		expect((await alice.api.pushKey()).publicKey).toBe(publicKey);
	});

	it('is refused to whoever is not signed in', async () => {
		const response = await fetch(`${hub.url}${ROUTES.pushKey}`);
		expect(response.status).toBe(401);
		expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
	});
});

describe('a message to a user', () => {
	it('reaches a device with no socket as a signed, encrypted push whose whole plaintext is who wrote', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		// Bob's open tab: subscribed too, but connected, so the socket tells it and no push goes.
		const openTab = service.subscribe();
		await bob.api.subscribePush(openTab);
		const connectedBefore = await pushCount('connected');
		const phone = await closedApp(bob);

		await alice.messenger.send(bob.username, 'the text never leaves the hub in a push');
		const push = await service.next(phone.sub);
		expect(push.plaintext).toBe(JSON.stringify({ t: 'msg', from: alice.username }));
		expect(push.claims.aud).toBe(service.origin);
		expect(push.ttl).toBeGreaterThan(0);
		await expect.poll(() => pushCount('connected')).toBeGreaterThan(connectedBefore);
		expect(service.count(openTab)).toBe(0);
		expect(service.rejected).toEqual([]);
	});

	it('is pushed once per sender in a burst; another sender is pushed at once', async () => {
		const alice = await user('burst_a');
		const carol = await user('burst_c');
		const bob = await user('burst_b');
		const phone = await closedApp(bob);
		const coalescedBefore = await pushCount('coalesced');

		await alice.messenger.send(bob.username, 'one');
		await service.next(phone.sub, 0);
		await alice.messenger.send(bob.username, 'two');
		await alice.messenger.send(bob.username, 'three');
		await expect.poll(() => pushCount('coalesced')).toBe(coalescedBefore + 2);
		await carol.messenger.send(bob.username, 'hello');
		const second = await service.next(phone.sub, 1);
		expect(second.plaintext).toBe(JSON.stringify({ t: 'msg', from: carol.username }));
		expect(service.count(phone.sub)).toBe(2);
	});

	it('is not pushed for a control message (a read receipt), nor to the sender’s own closed devices', async () => {
		const alice = await user('ctl_a');
		const bob = await user('ctl_b');
		const bobPhone = await closedApp(bob);
		const alicePhone = await closedApp(alice);
		const first = await alice.messenger.send(bob.username, 'before the control');
		await service.next(bobPhone.sub, 0);
		await bob.messenger.sendControl(alice.username, { type: 'read-receipt', ids: [first.envelope.id] });
		// A text from Bob after it: the first push Alice's phone gets is that text's: its push is the first and only one Bob's phone gets; Alice's phone gets none.
		await alice.messenger.send(bob.username, 'after the control');
		const push = await service.next(bobPhone.sub);
		expect(push.plaintext).toBe(JSON.stringify({ t: 'msg', from: alice.username }));
		expect(service.count(alicePhone.sub)).toBe(0);
	});

	it('time-locked: pushed at its release, not when it is sent', async () => {
		const dave = await user('lock_d');
		const bob = await user('lock_b');
		const phone = await closedApp(bob);
		const unlockAt = Date.now() + 2_500;
		const sent = await dave.messenger.send(bob.username, 'sealed', { unlockAt, announce: true });
		expect(sent.result.state).toBe('locked');
		const push = await service.next(phone.sub, 0, 20_000);
		expect(push.at).toBeGreaterThanOrEqual(unlockAt);
		expect(push.plaintext).toBe(JSON.stringify({ t: 'msg', from: dave.username }));
		expect(service.count(phone.sub)).toBe(1);
	});

	it('a subscription the push service calls gone (410) is deleted', async () => {
		const erin = await user('gone_e');
		const bob = await user('gone_b');
		const phone = await closedApp(bob);
		service.expire(phone.sub);
		const goneBefore = await pushCount('gone');
		await erin.messenger.send(bob.username, 'to nobody');
		await expect.poll(() => pushCount('gone'), { timeout: 15_000 }).toBe(goneBefore + 1);
		// The phone signs in again later: the hub no longer holds its subscription.
		const back = await phone.client.reconnect();
		expect(back.connected).toBe(true);
		expect(await phone.client.api.pushState()).toEqual({ enabled: false });
	});

	it('a push service that never answers neither delays nor fails the send', async () => {
		const frank = await user('slow_f');
		const bob = await user('slow_b');
		const phone = await device(bob);
		const port = (hanging.address() as { port: number }).port;
		await phone.api.subscribePush({ ...service.subscribe(), endpoint: `http://127.0.0.1:${port}/push/hang` });
		await goOffline(phone);
		const before = hangingSockets.length;
		const sent = await frank.messenger.send(bob.username, 'still delivered');
		expect(sent.result.state).toBe('live');
		// The push was under way, hanging, while the send had been acknowledged already.
		await expect.poll(() => hangingSockets.length).toBeGreaterThan(before);
		const synced = await bob.messenger.syncAll(null);
		expect(synced.messages.map((m) => m.id)).toContain(sent.envelope.id);
	});

	it('a signed-out device’s subscription is deleted with its session', async () => {
		const gina = await user('out_g');
		const bob = await user('out_b');
		const phone = await closedApp(bob);
		await bob.api.revokeSessions({ id: await sessionIdOf(phone.client) });
		// Gone with the session, before any message could use it.
		expect(await hub.hub.context.store.push.listByUser(bob.username)).toEqual([]);
		await gina.messenger.send(bob.username, 'nobody there');
		expect(service.count(phone.sub)).toBe(0);
	});
});

describe('deleting the account', () => {
	it('deletes every subscription of its devices', async () => {
		const hana = await user('del_h');
		await closedApp(hana);
		await hana.api.subscribePush(service.subscribe());
		expect(await hub.hub.context.store.push.listByUser(hana.username)).toHaveLength(2);
		await deleteAccount(hana.api, hana.username, TEST_PASSWORD);
		expect(await hub.hub.context.store.push.listByUser(hana.username)).toEqual([]);
	});
});

describe('the subscription routes refuse bad input and change nothing', () => {
	let client: TestClient;
	const good = () => service.subscribe();

	beforeAll(async () => {
		client = await user('badinput');
	});

	async function refused(body: unknown): Promise<{ code: string; status: number }> {
		const answer = await apiRefusal(client.api.subscribePush(body as never));
		expect(await client.api.pushState()).toEqual({ enabled: false });
		return answer;
	}

	it('malformed: not a URL, missing keys, unknown fields', async () => {
		expect(await refused({ ...good(), endpoint: 'not a url' })).toEqual({ code: 'BAD_REQUEST', status: 400 });
		expect(await refused({ endpoint: good().endpoint })).toEqual({ code: 'BAD_REQUEST', status: 400 });
		expect(await refused({ ...good(), extra: true })).toEqual({ code: 'BAD_REQUEST', status: 400 });
		expect(await refused({ ...good(), keys: { p256dh: 'short', auth: good().keys.auth } })).toEqual({
			code: 'BAD_REQUEST',
			status: 400,
		});
	});

	it('an endpoint that is not https, or not a push service’s host', async () => {
		for (const endpoint of [
			'http://push.example.org/x',
			'ftp://127.0.0.1/x',
			'https://user:pw@127.0.0.1/x',
			'https://10.0.0.1/internal',
			'https://fcm.googleapis.com.evil.example/x',
		]) {
			expect(await refused({ ...good(), endpoint })).toEqual({ code: 'BAD_REQUEST', status: 400 });
		}
	});

	it('oversized or invalid keys and endpoints', async () => {
		const sub = good();
		const longKey = Buffer.alloc(100, 4).toString('base64url');
		expect(await refused({ ...sub, keys: { ...sub.keys, p256dh: longKey } })).toEqual({
			code: 'BAD_REQUEST',
			status: 400,
		});
		expect(
			await refused({ ...sub, keys: { ...sub.keys, auth: Buffer.alloc(64).toString('base64url') } }),
		).toEqual({ code: 'BAD_REQUEST', status: 400 });
		const offCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url');
		expect(await refused({ ...sub, keys: { ...sub.keys, p256dh: offCurve } })).toEqual({
			code: 'BAD_REQUEST',
			status: 400,
		});
		const long = `${sub.endpoint}/${'a'.repeat(PUSH_LIMITS.endpointMaxChars)}`;
		expect(await refused({ ...sub, endpoint: long })).toEqual({ code: 'BAD_REQUEST', status: 400 });
		const huge = { ...sub, endpoint: `${sub.endpoint}/${'a'.repeat(40_000)}` };
		expect(await refused(huge)).toEqual({ code: 'PAYLOAD_TOO_LARGE', status: 413 });
	});

	it('unauthenticated: no session, no subscription', async () => {
		for (const method of ['GET', 'PUT', 'DELETE']) {
			const response = await fetch(`${hub.url}${ROUTES.pushSubscription}`, {
				method,
				headers:
					method === 'PUT' ? { 'content-type': 'application/json', origin: hub.url } : { origin: hub.url },
				body: method === 'PUT' ? JSON.stringify(good()) : undefined,
			});
			expect(response.status).toBe(401);
		}
	});

	it('a good subscription is kept for this device only, and deleting it turns it off', async () => {
		const other = await device(client);
		expect(await client.api.subscribePush(good())).toEqual({ enabled: true });
		expect(await client.api.pushState()).toEqual({ enabled: true });
		expect(await other.api.pushState()).toEqual({ enabled: false });
		// The device list (the PWA's Devices page, `hourglass sessions`) says which device gets pushes.
		const { sessions } = await other.api.sessions();
		expect(sessions.filter((s) => s.push).map((s) => s.current)).toEqual([false]);
		expect(await client.api.unsubscribePush()).toEqual({ enabled: false });
		expect(await client.api.pushState()).toEqual({ enabled: false });
	});
});

describe('a VAPID pair from the environment', () => {
	it('is the key the hub publishes and signs with, and nothing is written to DATA_DIR', async () => {
		const keys = webpush.generateVAPIDKeys();
		const ownDir = mkdtempSync(join(tmpdir(), 'hourglass-push-env-'));
		const envHub = await startTestHub({
			name: 'push_env',
			env: {
				DATA_DIR: ownDir,
				VAPID_PUBLIC_KEY: keys.publicKey,
				VAPID_PRIVATE_KEY: keys.privateKey,
				VAPID_SUBJECT: 'mailto:ops@example.org',
				PUSH_ENDPOINT_HOSTS: '127.0.0.1',
				PUSH_ALLOW_HTTP_LOOPBACK: 'true',
			},
		});
		const envService = await LocalPushService.start(() => keys.publicKey);
		const opened: TestClient[] = [];
		try {
			const ivy = await newUser(envHub.url, uniqueName('env_i'));
			const jo = await newUser(envHub.url, uniqueName('env_j'));
			const joPhone = await signInUser(envHub.url, jo.username);
			opened.push(ivy, jo, joPhone);
			expect((await ivy.api.pushKey()).publicKey).toBe(keys.publicKey);
			const sub = envService.subscribe();
			await joPhone.api.subscribePush(sub);
			jo.close();
			joPhone.close();
			await expect
				.poll(async () => (await envHub.hub.io.in(`user:${jo.username}`).fetchSockets()).length, {
					timeout: 15_000,
				})
				.toBe(0);
			await ivy.messenger.send(jo.username, 'signed with the configured key');
			const push = await envService.next(sub);
			expect(push.claims.sub).toBe('mailto:ops@example.org');
			expect(push.plaintext).toBe(JSON.stringify({ t: 'msg', from: ivy.username }));
			expect(existsSync(join(ownDir, 'vapid.json'))).toBe(false);
		} finally {
			for (const client of opened) client.close();
			await envHub.stop();
			await envService.stop();
			rmSync(ownDir, { recursive: true, force: true });
		}
	});
});

describe('a restart', () => {
	it('keeps the VAPID key, so subscriptions made before still work', async () => {
		await hub.restart();
		const client = await user('restart');
		expect((await client.api.pushKey()).publicKey).toBe(vapidKey);
	});
});
