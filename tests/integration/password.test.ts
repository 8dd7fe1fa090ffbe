import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	decodePublicIdentity,
	defaultKdf,
	deriveKeys,
	fromB64,
	generateIdentity,
	newSalt,
	openKeyBackup,
	publicIdentity,
	ready,
	safetyNumber,
	sealIdentityBackup,
	toB64,
} from '../../src/lib/crypto';
import { ROUTES } from '../../src/lib/protocol';
import { ApiError, HubApi, changePassword, signIn, type Account } from '../../src/lib/sdk';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	TEST_PASSWORD,
	newUser,
	signInUser,
	uniqueName,
	waitForDisconnect,
	waitForEvent,
	type TestClient,
} from '../helpers/users';

const NEW_PASSWORD = 'a fresh and rather long passphrase';

let hub: TestHub;
const clients: TestClient[] = [];

beforeAll(async () => {
	await ready();
	// Low lockout thresholds, so the test can see wrong current passwords counted as failed sign-ins.
	hub = await startTestHub({
		name: 'password',
		env: { LOCKOUT_DEVICE_FAILURES: '3', LOCKOUT_ACCOUNT_FAILURES: '3' },
	});
});

afterAll(async () => {
	for (const client of clients) client.close();
	await hub?.stop();
});

async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number }> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof ApiError) return { code: error.code, status: error.status };
		throw error;
	}
	throw new Error('the hub accepted what it should have refused');
}

async function track(client: Promise<TestClient>): Promise<TestClient> {
	const c = await client;
	clients.push(c);
	return c;
}

function safety(a: Account, b: Account): string {
	return safetyNumber(
		{ username: a.username, keys: decodePublicIdentity(a.user.identity) },
		{ username: b.username, keys: decodePublicIdentity(b.user.identity) },
	);
}

/** A password change body for `account`, built by hand so each field can be broken in turn. */
async function changeBody(api: HubApi, username: string, current: string) {
	const pre = await api.prelogin(username);
	const currentKeys = await deriveKeys(current, fromB64(pre.salt), pre.kdf);
	const salt = newSalt();
	const next = await deriveKeys(NEW_PASSWORD, salt, defaultKdf());
	return {
		currentAuthKey: toB64(currentKeys.authKey),
		salt: toB64(salt),
		kdf: defaultKdf(),
		authKey: toB64(next.authKey),
		keyBackup: sealIdentityBackup(generateIdentity(), next.wrapKey),
	};
}

function post(path: string, body: unknown, cookie?: string) {
	return fetch(hub.url + path, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
		body: typeof body === 'string' ? body : JSON.stringify(body),
	});
}

describe('password change', () => {
	it('changes the password end to end: old refused, new accepted, same identity and history key, other device ended', async () => {
		const name = uniqueName('alice');
		const laptop = await track(newUser(hub.url, name));
		const phone = await track(signInUser(hub.url, name));
		const bob = await track(newUser(hub.url, uniqueName('bob')));
		const numberBefore = safety(laptop.account, bob.account);

		const ended = waitForEvent(phone.socket, 'session:ended');
		const gone = waitForDisconnect(phone.socket);
		const changed = await changePassword(laptop.api, laptop.account, TEST_PASSWORD, NEW_PASSWORD);
		expect(changed.revokedSessions).toBe(1);
		expect(await ended).toEqual({ reason: 'password-changed' });
		await gone;
		expect((await refusal(phone.api.session())).code).toBe('UNAUTHENTICATED');
		// The device that changed it stays signed in.
		expect((await laptop.api.session()).user.username).toBe(name.toLowerCase());

		expect((await refusal(signIn(new HubApi({ baseUrl: hub.url }), name, TEST_PASSWORD))).code).toBe(
			'INVALID_CREDENTIALS',
		);
		const again = await signIn(new HubApi({ baseUrl: hub.url }), name, NEW_PASSWORD);
		expect(publicIdentity(again.identity)).toEqual(publicIdentity(laptop.account.identity));
		expect(again.user).toEqual(laptop.account.user);
		expect(safety(again, bob.account)).toBe(numberBefore);
		// The second device's history was sealed under this key: it opens it again after signing in.
		expect(toB64(again.localKey)).toBe(toB64(phone.account.localKey));

		// The backup on the hub opens with the new password only, and carries the same history key.
		const pre = await laptop.api.prelogin(name);
		expect(pre.salt).toBe(changed.account.sealed.salt);
		const keys = await deriveKeys(NEW_PASSWORD, fromB64(pre.salt), pre.kdf);
		const opened = openKeyBackup(changed.account.sealed.keyBackup, keys.wrapKey);
		expect(toB64(opened.historyKey!)).toBe(toB64(laptop.account.localKey));
		const oldKeys = await deriveKeys(TEST_PASSWORD, fromB64(pre.salt), pre.kdf);
		expect(() => openKeyBackup(changed.account.sealed.keyBackup, oldKeys.wrapKey)).toThrow(/openWithKey/);
	});

	it('keeps the other sessions when asked to', async () => {
		const name = uniqueName('carol');
		const laptop = await track(newUser(hub.url, name));
		const phone = await track(signInUser(hub.url, name));
		const changed = await changePassword(laptop.api, laptop.account, TEST_PASSWORD, NEW_PASSWORD, {
			keepOtherSessions: true,
		});
		expect(changed.revokedSessions).toBe(0);
		expect((await phone.api.session()).user.username).toBe(name.toLowerCase());
		// Its socket still carries messages: one sent to the account reaches it.
		const bob = await track(newUser(hub.url, uniqueName('bob')));
		const arrived = waitForEvent(phone.socket, 'message:new');
		await bob.messenger.send(name, 'still here');
		expect((await arrived).from).toBe(bob.username);
	});

	it('moves an account made before backups held a history key onto one, keeping the old local key', async () => {
		const name = uniqueName('legacy');
		const api = new HubApi({ baseUrl: hub.url, keepCookies: true });
		const salt = newSalt();
		const keys = await deriveKeys(TEST_PASSWORD, salt, defaultKdf());
		const identity = generateIdentity();
		await api.register({
			username: name,
			salt: toB64(salt),
			kdf: defaultKdf(),
			authKey: toB64(keys.authKey),
			identity: publicIdentity(identity),
			keyBackup: sealIdentityBackup(identity, keys.wrapKey),
		});
		const account = await signIn(api, name, TEST_PASSWORD);
		// Such an account's local history is sealed under the key derived from the password...
		expect(toB64(account.localKey)).toBe(toB64(keys.localKey));
		await changePassword(api, account, TEST_PASSWORD, NEW_PASSWORD);
		// ...and stays so: the new backup carries that key, so nothing local is re-encrypted.
		const after = await signIn(new HubApi({ baseUrl: hub.url }), name, NEW_PASSWORD);
		expect(toB64(after.localKey)).toBe(toB64(keys.localKey));
	});

	it('refuses a wrong current password, leaves the old one working, and counts it toward the lockout', async () => {
		const name = uniqueName('dan');
		const laptop = await track(newUser(hub.url, name));
		const wrong = (i: number) =>
			refusal(changePassword(laptop.api, laptop.account, `wrong password ${i}!`, NEW_PASSWORD));
		expect((await wrong(0)).code).toBe('INVALID_CREDENTIALS');
		// Nothing changed: the old password still signs in.
		const fresh = await signIn(new HubApi({ baseUrl: hub.url }), name, TEST_PASSWORD);
		expect(fresh.username).toBe(name.toLowerCase());
		// As wrong sign-ins do: 3 more lock this device's exemption, 3 more lock the account.
		let failures = 1;
		for (;;) {
			const refused = await wrong(failures);
			if (refused.code === 'LOCKED_OUT') break;
			expect(refused.code).toBe('INVALID_CREDENTIALS');
			failures++;
		}
		expect(failures).toBe(6);
		expect((await refusal(signIn(new HubApi({ baseUrl: hub.url }), name, TEST_PASSWORD))).code).toBe(
			'LOCKED_OUT',
		);
	});

	it('answers weak, malformed, oversized and unauthenticated requests with clear codes', async () => {
		const name = uniqueName('erin');
		const laptop = await track(newUser(hub.url, name));
		const cookie = laptop.api.cookieHeader();

		// Too short, or the same password: refused on the device, before anything is sent.
		expect(await refusal(changePassword(laptop.api, laptop.account, TEST_PASSWORD, 'short'))).toEqual({
			code: 'BAD_REQUEST',
			status: 0,
		});
		expect(
			(await refusal(changePassword(laptop.api, laptop.account, TEST_PASSWORD, TEST_PASSWORD))).code,
		).toBe('BAD_REQUEST');

		const body = await changeBody(laptop.api, name, TEST_PASSWORD);
		const unauthenticated = await post(ROUTES.password, body);
		expect(unauthenticated.status).toBe(401);
		expect(await unauthenticated.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });

		for (const broken of [
			{ ...body, authKey: 'not base64!' },
			{ ...body, salt: toB64(new Uint8Array(8)) },
			{ ...body, kdf: { ...body.kdf, memlimit: 1024 } },
			{ ...body, extra: true },
			{ currentAuthKey: body.currentAuthKey },
			'{"not json',
		]) {
			const response = await post(ROUTES.password, broken, cookie);
			expect(response.status, JSON.stringify(broken)).toBe(400);
			expect(await response.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
		}

		// The current salt again: a new password needs a new one.
		const pre = await laptop.api.prelogin(name);
		const sameSalt = await post(ROUTES.password, { ...body, salt: pre.salt }, cookie);
		expect(sameSalt.status).toBe(400);
		expect(await sameSalt.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });

		const huge = await post(
			ROUTES.password,
			{ ...body, keyBackup: { ...body.keyBackup, ciphertext: 'A'.repeat(64 * 1024) } },
			cookie,
		);
		expect(huge.status).toBe(413);
		expect(await huge.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });

		// None of these changed anything.
		expect((await laptop.api.prelogin(name)).salt).toBe(pre.salt);
		expect((await signIn(new HubApi({ baseUrl: hub.url }), name, TEST_PASSWORD)).username).toBe(
			name.toLowerCase(),
		);
	});
});
