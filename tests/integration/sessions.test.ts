import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, type DeviceSession } from '../../src/lib/protocol';
import { HubApi, connectHub, type HubSocket } from '../../src/lib/sdk';
import { sessionIdOf } from '../../server/services/auth';
import { startTestHub, type TestHub } from '../helpers/hub';
import { startRedis, type TestRedis } from '../helpers/redis';
import {
	apiRefusal,
	newUser,
	signInUser,
	uniqueName,
	waitForConnect,
	waitForDisconnect,
	waitForEvent,
	type TestClient,
} from '../helpers/users';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const IPHONE =
	'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const HOUR = 3_600_000;

const clients: TestClient[] = [];
afterAll(() => {
	for (const client of clients) client.close();
});

/** A socket that tries once: it either connects or is refused, and never reconnects by itself. */
function oneShot(url: string, cookie: string): HubSocket {
	const socket = connectHub(url, { cookie, autoConnect: false });
	socket.io.opts.reconnection = false;
	return socket;
}

function currentOf(sessions: DeviceSession[]): DeviceSession {
	const current = sessions.filter((s) => s.current);
	expect(current).toHaveLength(1);
	return current[0];
}

type RaceOutcome = 'refused' | 'endedAfterJoining' | 'survived';

/**
 * Logs sessions out while sockets of theirs shake hands: each run makes a session, starts a few
 * handshakes before, with and during the logout (a few event-loop turns apart) and one after its
 * reply, and sees how each ends. Every other run the session sat idle past the touch interval (each
 * handshake reads it and writes a touch, the slow path of the original report); in the others it is
 * in the socket hub's cache (no database at all).
 */
async function raceLogout(options: {
	runs: number;
	socketHub: TestHub;
	logoutHub: TestHub;
	/** Moves the hubs' clock past the touch interval. */
	idle?: () => void;
}): Promise<Record<RaceOutcome, number>> {
	const { runs, socketHub, logoutHub } = options;
	const SOCKETS_PER_RUN = 4;
	const owner = await newUser(logoutHub.url, uniqueName('race'));
	owner.close();
	const { store } = logoutHub.hub.context;
	const { io } = socketHub.hub.context;
	const outcomes: Record<RaceOutcome, number> = { refused: 0, endedAfterJoining: 0, survived: 0 };
	const turns = (n: number) =>
		Array.from({ length: n }).reduce<Promise<void>>(
			(p) => p.then(() => new Promise((resolve) => setImmediate(resolve))),
			Promise.resolve(),
		);

	for (let run = 0; run < runs; run++) {
		// A session of the owner's, made in the store: what is under test is the socket, not the sign-in.
		const token = randomBytes(32).toString('base64url');
		const id = sessionIdOf(token);
		const at = logoutHub.hub.context.now();
		await store.sessions.insert({
			id,
			username: owner.username,
			createdAt: at,
			lastSeenAt: at,
			expiresAt: at + 30 * 24 * HOUR,
			trusted: false,
			userAgent: '',
			place: null,
		});
		const cookie = `hg_session=${token}`;
		if (run % 2 === 0 && options.idle) options.idle();
		else await waitForConnect(oneShot(socketHub.url, cookie)).then((s) => s.close());

		const sockets = Array.from({ length: SOCKETS_PER_RUN }, () => oneShot(socketHub.url, cookie));
		const settled = sockets.map(
			(socket) =>
				new Promise<RaceOutcome>((resolve) => {
					socket.once('connect_error', () => resolve('refused'));
					socket.once('connect', () => {
						waitForDisconnect(socket, 5_000).then(
							() => resolve('endedAfterJoining'),
							() => resolve('survived'),
						);
					});
				}),
		);
		sockets[0].connect();
		await turns(run % 3);
		const logout = fetch(logoutHub.url + ROUTES.logout, {
			method: 'POST',
			headers: { 'content-type': 'application/json', cookie },
			body: '{}',
		});
		for (const socket of sockets.slice(1, -1)) {
			await turns(1 + (run % 4));
			socket.connect();
		}
		expect((await logout).status).toBe(204);
		// And one after the logout's reply, which must find the session gone though it may be cached.
		sockets.at(-1)!.connect();
		for (const outcome of await Promise.all(settled)) outcomes[outcome]++;
		// The hub's own view: no socket of that session is left.
		expect([...io.of('/').sockets.values()].filter((s) => s.data.sessionId === id)).toEqual([]);
		for (const socket of sockets) socket.close();
	}
	return outcomes;
}

describe('logout is final', () => {
	let offset = 0;
	let hub: TestHub;

	beforeAll(async () => {
		hub = await startTestHub({ name: 'logout_race', now: () => Date.now() + offset });
	});

	afterAll(async () => {
		await hub?.stop();
	});

	it('lets no socket survive whose handshake overlaps the logout of its session (300 runs)', async () => {
		const outcomes = await raceLogout({
			runs: 300,
			socketHub: hub,
			logoutHub: hub,
			idle: () => (offset += 16 * 60_000),
		});
		expect(outcomes.survived).toBe(0);
		// The runs did overlap: some sockets were let in and then ended, the last of each run refused.
		expect(outcomes.endedAfterJoining).toBeGreaterThan(0);
		expect(outcomes.refused).toBeGreaterThanOrEqual(300);
	}, 300_000);
});

describe('an open connection is use', () => {
	let offset = 0;
	let hub: TestHub;

	beforeAll(async () => {
		hub = await startTestHub({
			name: 'keepalive',
			env: { SESSION_IDLE_MINUTES: '1', SESSION_DAYS: '1' },
			now: () => Date.now() + offset,
		});
	});

	afterAll(async () => {
		await hub?.stop();
	});

	it('keeps a quiet connected device signed in past SESSION_IDLE_MINUTES and SESSION_DAYS; an unconnected one ends', async () => {
		const { devices, maintenance } = hub.hub.services;
		const quiet = await newUser(hub.url, uniqueName('quiet'));
		const away = await signInUser(hub.url, quiet.username);
		away.close();
		clients.push(quiet);
		const lockAfterMs = (await quiet.api.session()).lockAfterMs;
		expect(lockAfterMs).toBe(60_000);

		// Far past SESSION_IDLE_MINUTES: that is the PWA's app lock now, no session ends with it.
		offset += 5 * 60_000;
		await maintenance.sweep();
		expect((await away.api.session()).user.username).toBe(quiet.username);

		// Most of a day without a word, twice: the hub slides the connected session's expiry.
		for (let day = 0; day < 2; day++) {
			offset += 20 * HOUR;
			expect(await devices.keepConnectedAlive()).toEqual({ touched: 1, ended: 0 });
		}
		// The writes stay rare: a pass at the same time touches nothing.
		expect(await devices.keepConnectedAlive()).toEqual({ touched: 0, ended: 0 });
		expect((await maintenance.sweep()).sessionsEnded).toBe(1);

		expect(await apiRefusal(away.api.session())).toEqual({ code: 'UNAUTHENTICATED', status: 401 });
		expect(quiet.socket.connected).toBe(true);
		const sender = await newUser(hub.url, uniqueName('sender'));
		clients.push(sender);
		const heard = waitForEvent(quiet.socket, 'message:new', (e) => e.from === sender.username);
		await sender.messenger.send(quiet.username, 'still listening after two quiet days');
		expect((await quiet.messenger.open(await heard)).text).toBe('still listening after two quiet days');
		const view = await quiet.api.session();
		expect(view.expiresAt).toBeGreaterThan(view.serverNow + 20 * HOUR);
	});

	it('ends the sockets of a session that was deleted behind this hub, once it re-checks them', async () => {
		const device = await newUser(hub.url, uniqueName('behind'));
		clients.push(device);
		const id = currentOf((await device.api.sessions()).sessions).id;
		// As when a revocation was announced while this hub's link to the others was down.
		await hub.hub.context.store.sessions.delete(id);
		const ended = waitForEvent(device.socket, 'session:ended');
		const dropped = waitForDisconnect(device.socket);
		expect(await hub.hub.services.devices.recheckConnected()).toBe(1);
		expect(await ended).toEqual({ reason: 'revoked' });
		expect(await dropped).toBe('io server disconnect');
	});
});

describe('devices across two hubs', () => {
	let redis: TestRedis;
	let hubA: TestHub;
	let hubB: TestHub;
	let offset = 0;
	const now = () => Date.now() + offset;

	beforeAll(async () => {
		redis = await startRedis();
		hubA = await startTestHub({ name: 'devices_a', redisUrl: redis.url, now });
		hubB = await startTestHub({ name: 'devices_b', redisUrl: redis.url, mongoUri: hubA.mongoUri, now });
	});

	afterAll(async () => {
		await hubB?.stop();
		await hubA?.stop();
		await redis?.stop();
	});

	it('lists every device with its name and network, and signs one out on the other hub at once', async () => {
		const owner = await newUser(hubA.url, uniqueName('owner'));
		const laptop = await signInUser(hubA.url, owner.username, undefined, {
			userAgent: FIREFOX,
			trustDevice: true,
		});
		const phone = await signInUser(hubB.url, owner.username, undefined, { userAgent: IPHONE });
		clients.push(owner, laptop, phone);

		const { sessions } = await laptop.api.sessions();
		expect(sessions).toHaveLength(3);
		const here = currentOf(sessions);
		expect(here).toMatchObject({ device: 'Firefox on Linux', place: '127.0.0.0/16', trusted: true });
		const phoneRow = sessions.find((s) => s.device === 'Safari on iPhone');
		expect(phoneRow).toMatchObject({ current: false, trusted: false, place: '127.0.0.0/16' });
		for (const s of sessions) expect(s.expiresAt).toBeGreaterThan(s.lastSeenAt + 29 * 24 * HOUR);
		// The phone sees the same devices, itself marked.
		expect(currentOf((await phone.api.sessions()).sessions).id).toBe(phoneRow!.id);

		const ended = waitForEvent(phone.socket, 'session:ended');
		const dropped = waitForDisconnect(phone.socket);
		expect(await laptop.api.revokeSessions({ id: phoneRow!.id })).toEqual({ revoked: 1 });
		expect(await ended).toEqual({ reason: 'revoked' });
		expect(await dropped).toBe('io server disconnect');

		expect(await apiRefusal(phone.api.session())).toEqual({ code: 'UNAUTHENTICATED', status: 401 });
		const again = oneShot(hubB.url, phone.api.cookieHeader()!);
		await expect(waitForConnect(again)).rejects.toMatchObject({ data: { code: 'UNAUTHENTICATED' } });
		again.close();
		expect((await laptop.api.sessions()).sessions.map((s) => s.id)).not.toContain(phoneRow!.id);
		expect(owner.socket.connected).toBe(true);
	});

	it('signs every other device out, wherever it is connected, and keeps this one', async () => {
		const owner = await newUser(hubA.url, uniqueName('owner'));
		const others = await Promise.all([
			signInUser(hubB.url, owner.username),
			signInUser(hubB.url, owner.username),
			signInUser(hubA.url, owner.username),
		]);
		clients.push(owner, ...others);
		const endings = others.map((o) =>
			Promise.all([waitForEvent(o.socket, 'session:ended'), waitForDisconnect(o.socket)]),
		);

		expect(await owner.api.revokeSessions('others')).toEqual({ revoked: 3 });
		for (const [event, reason] of await Promise.all(endings)) {
			expect(event).toEqual({ reason: 'revoked' });
			expect(reason).toBe('io server disconnect');
		}
		const { sessions } = await owner.api.sessions();
		expect(sessions).toHaveLength(1);
		expect(sessions[0].current).toBe(true);
		expect(owner.socket.connected).toBe(true);
	});

	it('signs this very device out when it revokes its own session, cookie and sockets alike', async () => {
		const owner = await newUser(hubA.url, uniqueName('self'));
		clients.push(owner);
		const id = currentOf((await owner.api.sessions()).sessions).id;
		const ended = waitForEvent(owner.socket, 'session:ended');
		const response = await fetch(hubA.url + ROUTES.revokeSessions, {
			method: 'POST',
			headers: { 'content-type': 'application/json', cookie: owner.api.cookieHeader()! },
			body: JSON.stringify({ id }),
		});
		expect(response.status).toBe(200);
		expect(response.headers.getSetCookie().join('\n')).toMatch(/hg_session=;/);
		expect(await ended).toEqual({ reason: 'revoked' });
		expect(await apiRefusal(owner.api.session())).toMatchObject({ code: 'UNAUTHENTICATED' });
	});

	it('lets no socket on one hub survive a logout made on the other (100 runs)', async () => {
		const outcomes = await raceLogout({
			runs: 100,
			socketHub: hubB,
			logoutHub: hubA,
			idle: () => (offset += 16 * 60_000),
		});
		expect(outcomes.survived).toBe(0);
		expect(outcomes.refused).toBeGreaterThanOrEqual(100);
	}, 300_000);

	it('refuses malformed, foreign and unauthorized requests to the device routes with clear codes', async () => {
		const owner = await newUser(hubA.url, uniqueName('strict'));
		const stranger = await newUser(hubA.url, uniqueName('stranger'));
		clients.push(owner, stranger);
		const cookie = owner.api.cookieHeader()!;
		const revoke = (body: string, headers: Record<string, string> = {}) =>
			fetch(hubA.url + ROUTES.revokeSessions, {
				method: 'POST',
				headers: { 'content-type': 'application/json', cookie, ...headers },
				body,
			}).then(async (r) => ({
				status: r.status,
				code: ((await r.json()) as { error?: { code: string } }).error?.code,
			}));

		const anonymous = new HubApi({ baseUrl: hubA.url });
		expect(await apiRefusal(anonymous.sessions())).toEqual({ code: 'UNAUTHENTICATED', status: 401 });
		expect(await apiRefusal(anonymous.revokeSessions('others'))).toEqual({
			code: 'UNAUTHENTICATED',
			status: 401,
		});
		// Anonymous and malformed: still UNAUTHENTICATED, the schema is nobody else's business.
		expect(await revoke('{"id":1}', { cookie: '' })).toEqual({ status: 401, code: 'UNAUTHENTICATED' });

		const strangerId = currentOf((await stranger.api.sessions()).sessions).id;
		const validButUnknown = randomBytes(32).toString('base64url');
		for (const body of [
			'{}',
			'{"id":"short"}',
			`{"id":"${'!'.repeat(43)}"}`,
			'{"others":false}',
			`{"id":"${validButUnknown}","others":true}`,
			'{"id":',
			'[]',
		]) {
			expect(await revoke(body), body).toEqual({ status: 400, code: 'BAD_REQUEST' });
		}
		expect(await revoke(JSON.stringify({ id: strangerId }))).toEqual({ status: 404, code: 'NOT_FOUND' });
		expect(await revoke(JSON.stringify({ id: validButUnknown }))).toEqual({ status: 404, code: 'NOT_FOUND' });
		expect(await revoke('{"others":true}', { origin: 'https://evil.example' })).toEqual({
			status: 403,
			code: 'BAD_ORIGIN',
		});
		expect(await revoke(JSON.stringify({ id: 'x'.repeat(40_000) }))).toEqual({
			status: 413,
			code: 'PAYLOAD_TOO_LARGE',
		});
		// None of it ended anything: both sessions and their sockets live on.
		expect((await owner.api.sessions()).sessions).toHaveLength(1);
		expect((await stranger.api.session()).user.username).toBe(stranger.username);
		expect(stranger.socket.connected).toBe(true);
	});
});
