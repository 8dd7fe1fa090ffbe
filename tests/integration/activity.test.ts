import { Writable } from 'node:stream';
import { generate } from 'otplib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKeys, fromB64, ready, toB64 } from '../../src/lib/crypto';
import { ROUTES, type ActivityEvent } from '../../src/lib/protocol';
import {
	ApiError,
	HubApi,
	SecondFactorRequired,
	changePassword,
	signIn,
	type Account,
} from '../../src/lib/sdk';
import { startTestHub, type TestHub } from '../helpers/hub';
import { TEST_PASSWORD, apiRefusal, newUser, uniqueName, type TestClient } from '../helpers/users';

const DAY = 86_400_000;
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const PHONE =
	'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36';

/** The hub's clock: moved past the retention instead of waiting. Starts 5 s into a TOTP step. */
let clock = Math.floor(Date.now() / 30_000) * 30_000 + 5_000;
let hub: TestHub;
const clients: TestClient[] = [];
/** Every line the hub logged, parsed. */
const logs: Record<string, unknown>[] = [];

beforeAll(async () => {
	await ready();
	const sink = new Writable({
		write(chunk: Buffer, _encoding, done) {
			for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line));
			done();
		},
	});
	hub = await startTestHub({
		name: 'activity',
		now: () => clock,
		logger: pino({ level: 'info' }, sink),
		env: { TRUST_PROXY: '127.0.0.1', LOCKOUT_ACCOUNT_FAILURES: '3', ACTIVITY_DAYS: '90' },
	});
});

afterAll(async () => {
	for (const client of clients) client.close();
	await hub?.stop();
});

let addresses = 0;
/** A device at an address of its own (198.18.0.0/15, RFC 2544's range) with a browser's user agent. */
function device(userAgent: string, address = `198.18.${++addresses}.7`): HubApi {
	return new HubApi({
		baseUrl: hub.url,
		keepCookies: true,
		fetch: (input, init) => {
			const headers = new Headers(init?.headers);
			headers.set('x-forwarded-for', address);
			headers.set('user-agent', userAgent);
			return fetch(input, { ...init, headers });
		},
	});
}

async function owner(prefix: string): Promise<TestClient> {
	const user = await newUser(hub.url, uniqueName(prefix));
	clients.push(user);
	return user;
}

/** The whole log, newest first, following pages. */
async function logOf(api: HubApi): Promise<ActivityEvent[]> {
	const events: ActivityEvent[] = [];
	let before: string | undefined;
	for (;;) {
		const page = await api.activity({ before, limit: 3 });
		events.push(...page.events);
		if (!page.more) return events;
		before = page.events.at(-1)!.id;
	}
}

async function wrongPassword(api: HubApi, username: string): Promise<string> {
	try {
		await signIn(api, username, 'not the password at all');
	} catch (error) {
		if (error instanceof ApiError) return error.code;
		throw error;
	}
	throw new Error('signed in with a wrong password');
}

function authKeyOf(api: HubApi, username: string): Promise<string> {
	return api
		.prelogin(username)
		.then(async (pre) => toB64((await deriveKeys(TEST_PASSWORD, fromB64(pre.salt), pre.kdf)).authKey));
}

describe('the activity log', () => {
	it('records the registration, and a sign-in with its device, network and whether the device is new', async () => {
		const alice = await owner('act_signin');
		const laptop = device(FIREFOX, '198.18.200.9');
		await signIn(laptop, alice.username, TEST_PASSWORD);
		// The same browser again: it carries the device token the first sign-in gave it.
		await signIn(laptop, alice.username, TEST_PASSWORD);

		const events = await logOf(alice.api);
		expect(events.map((e) => e.type)).toEqual(['sign-in', 'sign-in', 'registered']);
		expect(events[1]).toMatchObject({ device: 'Firefox on Linux', place: '198.18.0.0/16', newDevice: true });
		expect(events[0]).toMatchObject({ device: 'Firefox on Linux', newDevice: false });
		// Newest first, and ids sort the same way as times.
		expect(events.map((e) => e.id)).toEqual(
			events
				.map((e) => e.id)
				.sort()
				.reverse(),
		);
	});

	it("records a stranger's wrong passwords and the lockout they cause in the owner's log, and nothing for unknown names", async () => {
		const bob = await owner('act_fail');
		const stranger = device(PHONE, '198.19.4.4');
		for (let i = 0; i < 3; i++)
			expect(await wrongPassword(stranger, bob.username)).toBe('INVALID_CREDENTIALS');
		expect(await wrongPassword(stranger, bob.username)).toBe('LOCKED_OUT');

		const events = await logOf(bob.api);
		const failures = events.filter((e) => e.type === 'sign-in-failed');
		expect(failures).toHaveLength(3);
		expect(failures[0]).toMatchObject({
			reason: 'password',
			device: 'Chrome on Android',
			place: '198.19.0.0/16',
		});
		const lockouts = events.filter((e) => e.type === 'lockout');
		expect(lockouts).toHaveLength(1);
		expect(lockouts[0].until).toBeGreaterThan(lockouts[0].at);

		// A name nobody has: refused the same way, and its log is empty once someone takes the name.
		const unknown = uniqueName('act_nobody');
		expect(await wrongPassword(device(PHONE), unknown)).toBe('INVALID_CREDENTIALS');
		const later = await owner('act_later');
		expect((await logOf(later.api)).map((e) => e.type)).toEqual(['registered']);
		expect(await hub.hub.context.store.activity.page(unknown, undefined, 10)).toEqual([]);
	});

	it('records a password change, two-factor on and off, a spent recovery code, a wrong code and revoked sessions', async () => {
		const carol = await owner('act_changes');
		const authKey = await authKeyOf(carol.api, carol.username);
		const { secret } = await carol.api.totpSetup({ authKey });
		const { recoveryCodes } = await carol.api.totpEnable({
			code: await generate({ secret, epoch: Math.floor(clock / 1000) }),
		});

		// A new device: password, then a wrong code, then a recovery code.
		const phone = device(PHONE);
		let pending: SecondFactorRequired<Account> | null = null;
		try {
			await signIn(phone, carol.username, TEST_PASSWORD);
		} catch (error) {
			if (!(error instanceof SecondFactorRequired)) throw error;
			pending = error as SecondFactorRequired<Account>;
		}
		expect(pending).not.toBeNull();
		expect((await apiRefusal(pending!.complete('000000'))).code).toBe('INVALID_TOTP');
		await pending!.complete(recoveryCodes[0]);

		expect(await carol.api.revokeSessions('others')).toEqual({ revoked: 1 });
		await carol.api.totpDisable({ authKey, code: recoveryCodes[1] });
		const wrong = changePassword(
			carol.api,
			carol.account,
			'not the password at all',
			'a brand new passphrase',
		);
		expect((await apiRefusal(wrong)).code).toBe('INVALID_CREDENTIALS');
		await changePassword(carol.api, carol.account, TEST_PASSWORD, 'a brand new passphrase');

		const types = (await logOf(carol.api)).map((e) => e.type).reverse();
		expect(types).toEqual([
			'registered',
			'2fa-enabled',
			'sign-in-failed',
			'recovery-code-used',
			'sign-in',
			'sessions-revoked',
			'recovery-code-used',
			'2fa-disabled',
			'sign-in-failed',
			'password-changed',
		]);
		const events = (await logOf(carol.api)).reverse();
		expect(events.filter((e) => e.type === 'sign-in-failed').map((e) => e.reason)).toEqual([
			'code',
			'password',
		]);
		expect(events.find((e) => e.type === 'password-changed')).toMatchObject({ count: 0 });
		expect(events.find((e) => e.type === 'sessions-revoked')).toMatchObject({ count: 1 });
	});

	it('answers pages by `before`, and refuses bad queries and strangers with clear codes', async () => {
		const dave = await owner('act_pages');
		for (let i = 0; i < 4; i++) await signIn(device(FIREFOX), dave.username, TEST_PASSWORD);
		const first = await dave.api.activity({ limit: 2 });
		expect(first.events).toHaveLength(2);
		expect(first.more).toBe(true);
		const rest = await dave.api.activity({ before: first.events[1].id });
		expect(rest.more).toBe(false);
		expect([...first.events, ...rest.events].map((e) => e.type)).toEqual([
			'sign-in',
			'sign-in',
			'sign-in',
			'sign-in',
			'registered',
		]);

		const cookie = dave.api.cookieHeader() ?? '';
		const get = (search: string, headers: Record<string, string> = { cookie }) =>
			fetch(`${hub.url}${ROUTES.activity}${search}`, { headers });
		for (const search of [
			'?limit=0',
			'?limit=201',
			'?limit=two',
			'?before=x',
			'?before=1;drop',
			'?other=1',
		]) {
			const response = await get(search);
			expect(response.status, search).toBe(400);
			expect(((await response.json()) as { error: { code: string } }).error.code, search).toBe('BAD_REQUEST');
		}
		const anonymous = await get('', {});
		expect(anonymous.status).toBe(401);
		expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
	});

	it('forgets events older than ACTIVITY_DAYS at the sweep, and all of them with the account', async () => {
		const erin = await owner('act_keep');
		await signIn(device(FIREFOX), erin.username, TEST_PASSWORD);
		clock += 91 * DAY;
		try {
			await signIn(device(PHONE), erin.username, TEST_PASSWORD);
			const report = await hub.hub.services.maintenance.sweep();
			expect(report.activityExpired).toBeGreaterThanOrEqual(2);
			// The sweep ended erin's old session too: this device signs in afresh.
			const fresh = device(FIREFOX);
			await signIn(fresh, erin.username, TEST_PASSWORD);
			expect((await logOf(fresh)).map((e) => e.type)).toEqual(['sign-in', 'sign-in']);

			const authKey = await authKeyOf(fresh, erin.username);
			await fresh.deleteAccount({ authKey });
			expect(await hub.hub.context.store.activity.page(erin.username, undefined, 10)).toEqual([]);
		} finally {
			clock -= 91 * DAY;
		}
	});

	it('gives operators the same events in the logs, without a password, key or full address', async () => {
		const frank = await owner('act_logs');
		await signIn(device(FIREFOX, '198.18.77.66'), frank.username, TEST_PASSWORD);
		const line = logs.find(
			(l) =>
				l.msg === 'activity' && l.user === frank.username && (l.event as ActivityEvent).type === 'sign-in',
		);
		expect(line).toBeDefined();
		expect(line!.event).toMatchObject({
			device: 'Firefox on Linux',
			place: '198.18.0.0/16',
			newDevice: true,
		});
		const text = JSON.stringify(logs.filter((l) => l.msg === 'activity'));
		expect(text).not.toContain('198.18.77.66');
		expect(text).not.toContain(TEST_PASSWORD);
		expect(text).not.toContain(await authKeyOf(frank.api, frank.username));
	});
});
