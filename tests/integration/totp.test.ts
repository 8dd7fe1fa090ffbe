import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKeys, fromB64, ready, toB64 } from '../../src/lib/crypto';
import { ROUTES } from '../../src/lib/protocol';
import { ApiError, HubApi, SecondFactorRequired, signIn, type Account } from '../../src/lib/sdk';
import { startTestHub, type TestHub } from '../helpers/hub';
import { TEST_PASSWORD, newUser, uniqueName, type TestClient } from '../helpers/users';

const STEP_MS = 30_000;
/** The hub's clock: moved by the tests, never slept on. Starts 5 s into a time step. */
let clock = Math.floor(Date.now() / STEP_MS) * STEP_MS + 5_000;
let hub: TestHub;
const clients: TestClient[] = [];

beforeAll(async () => {
	await ready();
	hub = await startTestHub({ name: 'totp', now: () => clock });
});

afterAll(async () => {
	for (const client of clients) client.close();
	await hub?.stop();
});

/** The code an authenticator app shows at `at` (the hub's clock by default), from the secret. */
function codeAt(secret: string, at = clock): Promise<string> {
	return generate({ secret, epoch: Math.floor(at / 1000) });
}

/** Moves the hub's clock to the start (+5 s) of the next time step. */
function nextStep(): void {
	clock = Math.floor(clock / STEP_MS) * STEP_MS + STEP_MS + 5_000;
}

function authKeyOf(api: HubApi, username: string): Promise<string> {
	return api
		.prelogin(username)
		.then(async (pre) => toB64((await deriveKeys(TEST_PASSWORD, fromB64(pre.salt), pre.kdf)).authKey));
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number }> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof ApiError) return { code: error.code, status: error.status };
		throw error;
	}
	throw new Error('the hub accepted what it should have refused');
}

/** The password step of a sign-in on a new device, which must ask for the second factor. */
async function passwordStep(
	url: string,
	username: string,
): Promise<{ api: HubApi; pending: SecondFactorRequired<Account> }> {
	const api = new HubApi({ baseUrl: url, keepCookies: true });
	try {
		await signIn(api, username, TEST_PASSWORD);
	} catch (error) {
		if (error instanceof SecondFactorRequired)
			return { api, pending: error as SecondFactorRequired<Account> };
		throw error;
	}
	throw new Error('signed in without a second factor');
}

/** Registers a user and turns two-factor authentication on; returns the secret and recovery codes. */
async function userWithTotp(url: string, prefix: string) {
	const user = await newUser(url, uniqueName(prefix));
	clients.push(user);
	const authKey = await authKeyOf(user.api, user.username);
	const { secret } = await user.api.totpSetup({ authKey });
	const { recoveryCodes } = await user.api.totpEnable({ code: await codeAt(secret) });
	return { user, authKey, secret, recoveryCodes };
}

async function post(path: string, body: unknown, cookie?: string) {
	const response = await fetch(hub.url + path, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
		body: typeof body === 'string' ? body : JSON.stringify(body),
	});
	return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
}

describe('enabling two-factor authentication', () => {
	it('gives a secret and its otpauth URI after the password, and enables it with a first valid code', async () => {
		const user = await newUser(hub.url, uniqueName('tina'));
		clients.push(user);
		expect(await user.api.totpStatus()).toEqual({ enabled: false, recoveryCodesLeft: 0 });
		const authKey = await authKeyOf(user.api, user.username);

		expect(await refusal(user.api.totpSetup({ authKey: toB64(new Uint8Array(32)) }))).toEqual({
			code: 'INVALID_CREDENTIALS',
			status: 401,
		});
		const { secret, uri } = await user.api.totpSetup({ authKey });
		const parsed = new URL(uri);
		expect(parsed.protocol).toBe('otpauth:');
		expect(parsed.searchParams.get('secret')).toBe(secret);
		expect(parsed.searchParams.get('issuer')).toBe('Hourglass');
		expect(decodeURIComponent(parsed.pathname)).toContain(user.username);

		// Still off until confirmed: signing in asks nothing.
		expect(await user.api.totpStatus()).toEqual({ enabled: false, recoveryCodesLeft: 0 });
		expect((await signIn(new HubApi({ baseUrl: hub.url }), user.username, TEST_PASSWORD)).username).toBe(
			user.username,
		);

		const wrong = (Number(await codeAt(secret)) + 1) % 1_000_000;
		expect(await refusal(user.api.totpEnable({ code: String(wrong).padStart(6, '0') }))).toEqual({
			code: 'INVALID_TOTP',
			status: 401,
		});
		const { recoveryCodes } = await user.api.totpEnable({ code: await codeAt(secret) });
		expect(recoveryCodes).toHaveLength(10);
		expect(new Set(recoveryCodes).size).toBe(10);
		expect(await user.api.totpStatus()).toEqual({ enabled: true, recoveryCodesLeft: 10 });
		expect(await refusal(user.api.totpSetup({ authKey }))).toMatchObject({ code: 'TOTP_ALREADY_ENABLED' });
	});
});

describe('signing in with two-factor authentication', () => {
	it('refuses the password alone with TOTP_REQUIRED and opens no session before the code', async () => {
		const { user, secret } = await userWithTotp(hub.url, 'uma');
		nextStep();
		const { api, pending } = await passwordStep(hub.url, user.username);
		expect(pending.code).toBe('TOTP_REQUIRED');
		expect(pending.status).toBe(401);
		expect(pending.ticket).toMatch(/^[\w-]+\.[\w-]+$/);
		expect(api.cookieHeader() ?? '').not.toContain('hg_session');
		expect(await refusal(api.session())).toMatchObject({ code: 'UNAUTHENTICATED' });

		const account = await pending.complete(await codeAt(secret));
		expect(account.user).toEqual(user.account.user);
		expect(api.cookieHeader()).toContain('hg_session');
		expect((await api.session()).user.username).toBe(user.username);
	});

	it('accepts a code once: the same code, an older one, and a wrong one are refused', async () => {
		const { user, secret } = await userWithTotp(hub.url, 'vera');
		nextStep();
		const code = await codeAt(secret);
		await (await passwordStep(hub.url, user.username)).pending.complete(code);

		const again = await passwordStep(hub.url, user.username);
		expect(await refusal(again.pending.complete(code))).toEqual({ code: 'INVALID_TOTP', status: 401 });
		// The previous step's code is within the tolerance but before the step already spent.
		expect(await refusal(again.pending.complete(await codeAt(secret, clock - STEP_MS)))).toMatchObject({
			code: 'INVALID_TOTP',
		});
		const wrong = String((Number(code) + 7) % 1_000_000).padStart(6, '0');
		expect(await refusal(again.pending.complete(wrong))).toMatchObject({ code: 'INVALID_TOTP' });
		// The same pending sign-in takes the next code.
		nextStep();
		expect((await again.pending.complete(await codeAt(secret))).username).toBe(user.username);
	});

	it('allows one step of clock drift either way, and refuses an expired code', async () => {
		const { user, secret } = await userWithTotp(hub.url, 'wren');
		nextStep();
		nextStep();
		// Two steps old: expired.
		const stale = await passwordStep(hub.url, user.username);
		expect(await refusal(stale.pending.complete(await codeAt(secret, clock - 2 * STEP_MS)))).toMatchObject({
			code: 'INVALID_TOTP',
		});
		// Two steps ahead: refused too.
		expect(await refusal(stale.pending.complete(await codeAt(secret, clock + 2 * STEP_MS)))).toMatchObject({
			code: 'INVALID_TOTP',
		});
		// The phone lags one step behind.
		await stale.pending.complete(await codeAt(secret, clock - STEP_MS));
		// The phone runs one step ahead.
		const ahead = await passwordStep(hub.url, user.username);
		expect((await ahead.pending.complete(await codeAt(secret, clock + STEP_MS))).username).toBe(
			user.username,
		);
	});

	it('signs in once with each recovery code', async () => {
		const { user, recoveryCodes } = await userWithTotp(hub.url, 'xena');
		const first = await passwordStep(hub.url, user.username);
		// As typed by a person: lower case, without dashes.
		await first.pending.complete(recoveryCodes[3].toLowerCase().replaceAll('-', ' '));
		expect(await first.api.totpStatus()).toEqual({ enabled: true, recoveryCodesLeft: 9 });

		const second = await passwordStep(hub.url, user.username);
		expect(await refusal(second.pending.complete(recoveryCodes[3]))).toEqual({
			code: 'INVALID_TOTP',
			status: 401,
		});
		expect(await refusal(second.pending.complete('AAAA-AAAA-AAAA-AAAA'))).toMatchObject({
			code: 'INVALID_TOTP',
		});
		await second.pending.complete(recoveryCodes[4]);
		expect(await user.api.totpStatus()).toEqual({ enabled: true, recoveryCodesLeft: 8 });
	});

	it('refuses a ticket that is unreadable, forged for another user, or expired', async () => {
		const { user, secret } = await userWithTotp(hub.url, 'yara');
		const { pending } = await passwordStep(hub.url, user.username);
		const other = await userWithTotp(hub.url, 'yuri');
		const forged = `${Buffer.from(JSON.stringify({ u: other.user.username, t: true, e: clock + 60_000 })).toString('base64url')}.${(pending.ticket ?? '').split('.')[1]}`;
		const api = new HubApi({ baseUrl: hub.url });
		nextStep();
		expect(await refusal(api.loginTotp({ ticket: forged, code: await codeAt(other.secret) }))).toEqual({
			code: 'UNAUTHENTICATED',
			status: 401,
		});
		expect(await refusal(api.loginTotp({ ticket: 'not-a-ticket', code: '123456' }))).toMatchObject({
			code: 'UNAUTHENTICATED',
		});
		clock += 5 * 60_000;
		expect(await refusal(pending.complete(await codeAt(secret)))).toMatchObject({ code: 'UNAUTHENTICATED' });
	});
});

describe('disabling two-factor authentication', () => {
	it('needs the password and a code, then sign-in asks the password only', async () => {
		const { user, authKey, secret, recoveryCodes } = await userWithTotp(hub.url, 'zoe');
		nextStep();
		expect(await refusal(user.api.totpDisable({ authKey, code: '000000' }))).toMatchObject({
			code: 'INVALID_TOTP',
		});
		expect(
			await refusal(user.api.totpDisable({ authKey: toB64(new Uint8Array(32)), code: await codeAt(secret) })),
		).toEqual({ code: 'INVALID_CREDENTIALS', status: 401 });
		expect(await refusal(new HubApi({ baseUrl: hub.url }).totpDisable({ authKey, code: '123456' }))).toEqual({
			code: 'UNAUTHENTICATED',
			status: 401,
		});
		await user.api.totpDisable({ authKey, code: recoveryCodes[0] });
		expect(await user.api.totpStatus()).toEqual({ enabled: false, recoveryCodesLeft: 0 });
		expect((await signIn(new HubApi({ baseUrl: hub.url }), user.username, TEST_PASSWORD)).username).toBe(
			user.username,
		);
		expect(await refusal(user.api.totpDisable({ authKey, code: await codeAt(secret) }))).toMatchObject({
			code: 'TOTP_NOT_ENABLED',
		});
	});
});

describe('bad requests', () => {
	it('answers malformed, oversized and unauthorized requests with clear codes', async () => {
		const user = await newUser(hub.url, uniqueName('abe'));
		clients.push(user);
		const cookie = user.api.cookieHeader();
		expect(await post(ROUTES.loginTotp, {})).toMatchObject({
			status: 400,
			body: { error: { code: 'BAD_REQUEST' } },
		});
		expect(await post(ROUTES.loginTotp, { ticket: 'x.y', code: 'twelve' })).toMatchObject({
			status: 400,
			body: { error: { code: 'BAD_REQUEST' } },
		});
		expect(await post(ROUTES.loginTotp, { ticket: 'x.y', code: '123456', extra: 1 })).toMatchObject({
			status: 400,
		});
		expect(await post(ROUTES.loginTotp, { ticket: 'x'.repeat(100_000), code: '123456' })).toMatchObject({
			status: 413,
			body: { error: { code: 'PAYLOAD_TOO_LARGE' } },
		});
		expect(await post(ROUTES.loginTotp, '{"ticket":')).toMatchObject({ status: 400 });
		for (const path of [ROUTES.totpSetup, ROUTES.totpEnable, ROUTES.totpDisable]) {
			expect(await post(path, {})).toMatchObject({
				status: 401,
				body: { error: { code: 'UNAUTHENTICATED' } },
			});
			expect(await post(path, { code: 5 }, cookie)).toMatchObject({
				status: 400,
				body: { error: { code: 'BAD_REQUEST' } },
			});
		}
		expect((await fetch(hub.url + ROUTES.totp)).status).toBe(401);
		expect(await refusal(user.api.totpEnable({ code: '123456' }))).toEqual({
			code: 'TOTP_NOT_ENABLED',
			status: 409,
		});
	});
});

describe('wrong codes and the lockout', () => {
	let strict: TestHub;

	beforeAll(async () => {
		strict = await startTestHub({
			name: 'totp_lockout',
			now: () => clock,
			env: { LOCKOUT_ACCOUNT_FAILURES: '3' },
		});
	});

	afterAll(async () => {
		await strict?.stop();
	});

	it('counts each wrong code as a failed sign-in, so guessing codes locks the account for strangers', async () => {
		const { user, secret } = await userWithTotp(strict.url, 'ada');
		nextStep();
		const { pending } = await passwordStep(strict.url, user.username);
		const right = await codeAt(secret);
		const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
		for (let i = 0; i < 3; i++) {
			expect(await refusal(pending.complete(wrong))).toMatchObject({ code: 'INVALID_TOTP' });
		}
		// Even the right code waits now; the password step answers the same.
		expect(await refusal(pending.complete(right))).toMatchObject({ code: 'LOCKED_OUT', status: 429 });
		expect(
			await refusal(signIn(new HubApi({ baseUrl: strict.url }), user.username, TEST_PASSWORD)),
		).toMatchObject({ code: 'LOCKED_OUT' });
	});

	it('does not count the password step that asks for the code', async () => {
		const { user, secret } = await userWithTotp(strict.url, 'bea');
		for (let i = 0; i < 4; i++) await passwordStep(strict.url, user.username);
		nextStep();
		const { pending } = await passwordStep(strict.url, user.username);
		expect((await pending.complete(await codeAt(secret))).username).toBe(user.username);
	});
});
