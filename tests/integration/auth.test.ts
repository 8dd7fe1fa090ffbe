import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKeys, fromB64, publicIdentity, ready, toB64 } from '../../src/lib/crypto';
import { KDF_DEFAULT, ROUTES } from '../../src/lib/protocol';
import { HubApi, call, connectHub, createAccount, signIn } from '../../src/lib/sdk';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	TEST_PASSWORD,
	apiRefusal,
	newUser,
	signInUser,
	uniqueName,
	waitForConnect,
	waitForDisconnect,
	waitForEvent,
	type TestClient,
} from '../helpers/users';

let hub: TestHub;
const clients: TestClient[] = [];

beforeAll(async () => {
	await ready();
	hub = await startTestHub({ name: 'auth' });
});

afterAll(async () => {
	for (const client of clients) client.close();
	await hub?.stop();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
	return fetch(hub.url + path, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...headers },
		body: JSON.stringify(body),
	});
}

describe('registration and login', () => {
	it('registers, logs the new account in, and publishes its public keys', async () => {
		const name = uniqueName('Carol');
		const api = new HubApi({ baseUrl: hub.url, keepCookies: true });
		const account = await createAccount(api, name, TEST_PASSWORD);
		expect(account.username).toBe(name.toLowerCase());
		expect(api.cookieHeader()).toMatch(/^hg_session=[A-Za-z0-9_-]{43}; hg_device=[A-Za-z0-9_.-]+$/);
		const view = await api.session();
		expect(view.user).toEqual({ username: name.toLowerCase(), identity: publicIdentity(account.identity) });
		expect(view.expiresAt).toBeGreaterThan(view.serverNow);
		expect(await api.userKeys(name)).toEqual(view.user);
	});

	it('sets an HttpOnly, SameSite=Strict session cookie on register and login', async () => {
		const name = uniqueName('dave');
		const api = new HubApi({ baseUrl: hub.url, keepCookies: true });
		const account = await createAccount(api, name, TEST_PASSWORD);
		const pre = await api.prelogin(name);
		const keys = await deriveKeys(TEST_PASSWORD, fromB64(pre.salt), pre.kdf);
		const response = await post(ROUTES.login, { username: name, authKey: toB64(keys.authKey) });
		expect(response.status).toBe(200);
		const cookie = response.headers.getSetCookie().join('\n');
		expect(cookie).toMatch(/hg_session=[A-Za-z0-9_-]{43}/);
		expect(cookie).toMatch(/HttpOnly/i);
		expect(cookie).toMatch(/SameSite=Strict/i);
		expect(cookie).toMatch(/Path=\//);
		expect(cookie).not.toMatch(/Secure/i);
		// The device cookie outlives the session: it marks this device as one that signed in before.
		expect(cookie).toMatch(
			/hg_device=[A-Za-z0-9_.~-]+; Max-Age=15552000; Path=\/; HttpOnly; SameSite=Strict/,
		);
		// A new session id at every login.
		expect(cookie).not.toContain(/hg_session=([^;]+)/.exec(api.cookieHeader() ?? '')?.[1]);
		const body = (await response.json()) as { user: { username: string }; keyBackup: unknown };
		expect(body.user.username).toBe(account.username);
	});

	it('restores the identity from the key backup on a second device, which then reads old messages', async () => {
		const erin = await newUser(hub.url, uniqueName('erin'));
		const frank = await newUser(hub.url, uniqueName('frank'));
		clients.push(erin, frank);
		const sent = await erin.messenger.send(frank.username, 'before your new phone');

		const phone = await signInUser(hub.url, frank.username);
		clients.push(phone);
		expect(toB64(phone.account.identity.boxSk)).toBe(toB64(frank.account.identity.boxSk));
		expect(toB64(phone.account.identity.signSk)).toBe(toB64(frank.account.identity.signSk));
		const history = await phone.messenger.syncAll(null);
		expect(history.messages.find((m) => m.id === sent.envelope.id)?.text).toBe('before your new phone');
	});

	it('refuses a wrong password and an unknown user alike: INVALID_CREDENTIALS', async () => {
		const name = uniqueName('gina');
		await createAccount(new HubApi({ baseUrl: hub.url, keepCookies: true }), name, TEST_PASSWORD);
		const wrong = await apiRefusal(signIn(new HubApi({ baseUrl: hub.url }), name, 'not the right password'));
		const unknown = await apiRefusal(
			signIn(new HubApi({ baseUrl: hub.url }), uniqueName('nobody'), TEST_PASSWORD),
		);
		expect(wrong).toEqual({ code: 'INVALID_CREDENTIALS', status: 401 });
		expect(unknown).toEqual(wrong);
	});

	it('refuses a taken username whatever its case: USERNAME_TAKEN', async () => {
		const name = uniqueName('hank');
		await createAccount(new HubApi({ baseUrl: hub.url }), name, TEST_PASSWORD);
		expect(
			await apiRefusal(createAccount(new HubApi({ baseUrl: hub.url }), name.toUpperCase(), TEST_PASSWORD)),
		).toEqual({
			code: 'USERNAME_TAKEN',
			status: 409,
		});
	});

	it('answers prelogin for an unknown user with a stable fake salt, like a real one', async () => {
		const api = new HubApi({ baseUrl: hub.url });
		const ghost = uniqueName('ghost');
		const first = await api.prelogin(ghost);
		expect(await api.prelogin(ghost.toUpperCase())).toEqual(first);
		expect(first.kdf).toEqual(KDF_DEFAULT);
		expect(fromB64(first.salt)).toHaveLength(16);
		expect((await api.prelogin(uniqueName('ghost'))).salt).not.toBe(first.salt);
	});

	it('refuses malformed bodies with BAD_REQUEST and a too-large body with PAYLOAD_TOO_LARGE', async () => {
		const bad = await post(ROUTES.register, { username: 'x' });
		expect(bad.status).toBe(400);
		expect(await bad.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
		const notJson = await fetch(hub.url + ROUTES.login, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: '{"username":',
		});
		expect(await notJson.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
		const big = await post(ROUTES.prelogin, { username: 'a'.repeat(100_000) });
		expect(big.status).toBe(413);
		expect(await big.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
	});

	it('answers user keys only to a signed-in client, and NOT_FOUND for an unknown name', async () => {
		const ivan = await newUser(hub.url, uniqueName('ivan'));
		clients.push(ivan);
		expect(await apiRefusal(ivan.api.userKeys(uniqueName('nobody')))).toEqual({
			code: 'NOT_FOUND',
			status: 404,
		});
		expect(await apiRefusal(new HubApi({ baseUrl: hub.url }).userKeys(ivan.username))).toEqual({
			code: 'UNAUTHENTICATED',
			status: 401,
		});
		expect(await apiRefusal(new HubApi({ baseUrl: hub.url }).session())).toEqual({
			code: 'UNAUTHENTICATED',
			status: 401,
		});
	});
});

describe('logout', () => {
	it("ends the session everywhere it is used: REST and that session's open sockets, not other sessions", async () => {
		const judy = await newUser(hub.url, uniqueName('judy'));
		const otherDevice = await signInUser(hub.url, judy.username);
		clients.push(judy, otherDevice);
		// A second socket on the same session (another tab).
		const secondTab = connectHub(hub.url, { cookie: judy.api.cookieHeader() });
		await waitForConnect(secondTab);

		const ended = waitForEvent(judy.socket, 'session:ended');
		const tabDropped = waitForDisconnect(secondTab);
		const dropped = waitForDisconnect(judy.socket);
		const cookie = judy.api.cookieHeader();
		await judy.api.logout();
		expect(await ended).toEqual({ reason: 'logout' });
		expect(await dropped).toBe('io server disconnect');
		expect(await tabDropped).toBe('io server disconnect');
		secondTab.close();

		// The old cookie opens nothing any more.
		const replay = new HubApi({ baseUrl: hub.url });
		const stale = await fetch(hub.url + ROUTES.session, { headers: { cookie: cookie ?? '' } });
		expect(stale.status).toBe(401);
		expect(await apiRefusal(replay.session())).toMatchObject({ code: 'UNAUTHENTICATED' });
		const again = connectHub(hub.url, { cookie, autoConnect: false });
		again.io.opts.reconnection = false;
		await expect(waitForConnect(again)).rejects.toMatchObject({ data: { code: 'UNAUTHENTICATED' } });
		again.close();

		// The other device's session lives on.
		expect(otherDevice.socket.connected).toBe(true);
		expect((await call(otherDevice.socket, 'time:sync', {})).serverNow).toBeGreaterThan(0);
		expect((await otherDevice.api.session()).user.username).toBe(judy.username);
	});
});
