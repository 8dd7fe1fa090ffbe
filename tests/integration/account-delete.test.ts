import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKeys, fromB64, ready, toB64 } from '../../src/lib/crypto';
import { ROUTES } from '../../src/lib/protocol';
import { HubApi, KeyChangedError, deleteAccount, signIn } from '../../src/lib/sdk';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	TEST_PASSWORD,
	apiRefusal,
	newUser,
	uniqueName,
	waitForDisconnect,
	waitForEvent,
	type TestClient,
} from '../helpers/users';

const HOUR_MS = 3_600_000;
/** The hub's clock, never moved here: TOTP codes are computed for it, time-locks are judged by it. */
const clock = Math.floor(Date.now() / 30_000) * 30_000 + 5_000;
let hub: TestHub;
const clients: TestClient[] = [];

beforeAll(async () => {
	await ready();
	// Low lockout thresholds, so the test can see wrong passwords and codes counted as failed sign-ins.
	hub = await startTestHub({
		name: 'account_delete',
		now: () => clock,
		env: { LOCKOUT_DEVICE_FAILURES: '3', LOCKOUT_ACCOUNT_FAILURES: '3' },
	});
});

afterAll(async () => {
	for (const client of clients) client.close();
	await hub?.stop();
});

async function track(client: Promise<TestClient>): Promise<TestClient> {
	const c = await client;
	clients.push(c);
	return c;
}

async function authKeyOf(api: HubApi, username: string, password: string): Promise<string> {
	const pre = await api.prelogin(username);
	return toB64((await deriveKeys(password, fromB64(pre.salt), pre.kdf)).authKey);
}

async function withTotp(user: TestClient): Promise<{ secret: string; recoveryCodes: string[] }> {
	const authKey = await authKeyOf(user.api, user.username, TEST_PASSWORD);
	const { secret } = await user.api.totpSetup({ authKey });
	const { recoveryCodes } = await user.api.totpEnable({
		code: await generate({ secret, epoch: Math.floor(clock / 1000) }),
	});
	return { secret, recoveryCodes };
}

function post(path: string, body: unknown, cookie?: string) {
	return fetch(hub.url + path, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
		body: typeof body === 'string' ? body : JSON.stringify(body),
	});
}

describe('account deletion', () => {
	it('removes the account: sign-in and keys as for an unknown name, sockets ended, waiting envelopes gone, a new owner of the name has new keys', async () => {
		const name = uniqueName('alice');
		const alice = await track(newUser(hub.url, name));
		const bob = await track(newUser(hub.url, uniqueName('bob')));
		const { store } = hub.hub.context;

		// Waiting for alice: a live message and a time-locked one; from alice, a locked one to bob.
		const arrived = waitForEvent(alice.socket, 'message:new');
		await bob.messenger.send(alice.username, 'hello alice');
		await arrived;
		await bob.messenger.send(alice.username, 'later, alice', { unlockAt: clock + HOUR_MS, announce: true });
		await alice.messenger.send(bob.username, 'later, bob', { unlockAt: clock + HOUR_MS });
		expect(await bob.messenger.peerKeys(alice.username)).toMatchObject(alice.account.user.identity);
		expect((await store.envelopes.page(alice.username, null, 100)).envelopes).toHaveLength(2);

		const ended = waitForEvent(alice.socket, 'session:ended');
		const gone = waitForDisconnect(alice.socket);
		await deleteAccount(alice.api, alice.username, TEST_PASSWORD);
		expect(await ended).toEqual({ reason: 'account-deleted' });
		await gone;

		// As for a name nobody has: wrong credentials, a fake salt (the same each time), no keys.
		expect(await apiRefusal(signIn(new HubApi({ baseUrl: hub.url }), name, TEST_PASSWORD))).toMatchObject({
			code: 'INVALID_CREDENTIALS',
			status: 401,
		});
		const pre = await new HubApi({ baseUrl: hub.url }).prelogin(alice.username);
		expect(pre.salt).not.toBe(alice.account.sealed.salt);
		expect((await new HubApi({ baseUrl: hub.url }).prelogin(alice.username)).salt).toBe(pre.salt);
		expect(await apiRefusal(bob.api.userKeys(alice.username))).toMatchObject({
			code: 'NOT_FOUND',
			status: 404,
		});
		expect(await apiRefusal(alice.api.session())).toMatchObject({ code: 'UNAUTHENTICATED' });
		expect(await store.sessions.idsOfUser(alice.username)).toEqual([]);

		// Nothing waits for alice any more, and her locked message to bob will never be released.
		expect((await store.envelopes.page(alice.username, null, 100)).envelopes).toEqual([]);
		expect(await store.envelopes.sealedFor(alice.username, 100)).toEqual([]);
		expect(await store.envelopes.lockedFrom(alice.username, 100)).toEqual([]);

		// Someone registers the name again: new keys, which bob's pin refuses; and nothing to sync.
		const again = await track(newUser(hub.url, name));
		expect(again.account.user.identity).not.toEqual(alice.account.user.identity);
		await expect(bob.messenger.peerKeys(alice.username, { refresh: true })).rejects.toBeInstanceOf(
			KeyChangedError,
		);
		expect((await again.messenger.sync(null)).messages).toEqual([]);
	});

	it('asks for a code when two-factor authentication is on, and then deletes the second factor too', async () => {
		const user = await track(newUser(hub.url, uniqueName('carol')));
		const { recoveryCodes } = await withTotp(user);
		expect(await apiRefusal(deleteAccount(user.api, user.username, TEST_PASSWORD))).toMatchObject({
			code: 'TOTP_REQUIRED',
			status: 401,
		});
		expect(
			await apiRefusal(
				deleteAccount(user.api, user.username, TEST_PASSWORD, { code: 'AAAA-AAAA-AAAA-AAAA' }),
			),
		).toMatchObject({ code: 'INVALID_TOTP' });
		// Still there: refusals delete nothing.
		expect((await user.api.session()).user.username).toBe(user.username);

		const ended = waitForEvent(user.socket, 'session:ended');
		await deleteAccount(user.api, user.username, TEST_PASSWORD, { code: recoveryCodes[0] });
		expect(await ended).toEqual({ reason: 'account-deleted' });
		expect(await hub.hub.context.store.secondFactors.get(user.username)).toBeNull();
		// The name registered again starts without a second factor.
		const again = await track(newUser(hub.url, user.username));
		expect(await again.api.totpStatus()).toEqual({ enabled: false, recoveryCodesLeft: 0 });
	});

	it('counts wrong passwords toward the lockout, and deletes nothing for them', async () => {
		const user = await track(newUser(hub.url, uniqueName('dan')));
		const wrong = (i: number) => apiRefusal(deleteAccount(user.api, user.username, `wrong password ${i}!`));
		let failures = 0;
		for (;;) {
			const refused = await wrong(failures);
			if (refused.code === 'LOCKED_OUT') break;
			expect(refused).toMatchObject({ code: 'INVALID_CREDENTIALS', status: 401 });
			failures++;
		}
		// As wrong sign-ins do: 3 lock this device's exemption, 3 more lock the account.
		expect(failures).toBe(6);
		expect(await apiRefusal(deleteAccount(user.api, user.username, TEST_PASSWORD))).toMatchObject({
			code: 'LOCKED_OUT',
		});
		expect((await user.api.session()).user.username).toBe(user.username);
	});

	it('counts wrong codes toward the lockout', async () => {
		const user = await track(newUser(hub.url, uniqueName('erin')));
		await withTotp(user);
		let failures = 0;
		for (;;) {
			const refused = await apiRefusal(
				deleteAccount(user.api, user.username, TEST_PASSWORD, { code: 'BBBB-BBBB-BBBB-BBBB' }),
			);
			if (refused.code === 'LOCKED_OUT') break;
			expect(refused).toMatchObject({ code: 'INVALID_TOTP', status: 401 });
			failures++;
		}
		expect(failures).toBe(6);
		expect((await user.api.session()).user.username).toBe(user.username);
	});

	it('answers unauthenticated, malformed and oversized requests with clear codes', async () => {
		const user = await track(newUser(hub.url, uniqueName('fay')));
		const cookie = user.api.cookieHeader();
		const authKey = await authKeyOf(user.api, user.username, TEST_PASSWORD);

		const anonymous = await post(ROUTES.accountDelete, { authKey });
		expect(anonymous.status).toBe(401);
		expect(await anonymous.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });

		for (const body of [
			{},
			{ authKey: 'short' },
			{ authKey, code: '12' },
			{ authKey, extra: true },
			'not json',
		]) {
			const refused = await post(ROUTES.accountDelete, body, cookie);
			expect(refused.status).toBe(400);
			expect(await refused.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
		}

		const oversized = await post(ROUTES.accountDelete, { authKey, code: 'x'.repeat(64 * 1024) }, cookie);
		expect(oversized.status).toBe(413);
		expect(await oversized.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });

		expect((await user.api.session()).user.username).toBe(user.username);
	});
});
