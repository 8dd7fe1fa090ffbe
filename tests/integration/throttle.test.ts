import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready, toB64, type DerivedKeys } from '../../src/lib/crypto';
import { ROUTES } from '../../src/lib/protocol';
import { ApiError, HubApi, createAccount, deriveInPlace } from '../../src/lib/sdk';
import { startTestHub, type TestHub } from '../helpers/hub';
import { startRedis, type TestRedis } from '../helpers/redis';
import { TEST_PASSWORD, fetchFrom, uniqueName } from '../helpers/users';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/**
 * Lockouts small enough to reach in a test: an account locks after 3 failures, an address after 5,
 * a device token stops exempting its device after 3; locks of 60 s doubling up to 240 s. The hub
 * believes X-Forwarded-For from this process (a proxy in front of it, as in production).
 */
const LOCKOUT_ENV = {
	TRUST_PROXY: '127.0.0.1',
	LOCKOUT_ACCOUNT_FAILURES: '3',
	LOCKOUT_SOURCE_FAILURES: '5',
	LOCKOUT_DEVICE_FAILURES: '3',
	LOCKOUT_BASE_SECONDS: '60',
	LOCKOUT_MAX_SECONDS: '240',
};

/** The hubs' clock: the test moves it past a lock instead of waiting. */
let clock = Date.now();
const now = () => clock;

let hub: TestHub;

beforeAll(async () => {
	await ready();
	hub = await startTestHub({ name: 'throttle', now, env: LOCKOUT_ENV });
});

afterAll(async () => {
	await hub?.stop();
});

let addresses = 0;
/** A client address of its own each time (198.18.0.0/15, the benchmarking range of RFC 2544). */
function newAddress(): string {
	const n = addresses++;
	return `198.18.${Math.floor(n / 250) % 256}.${(n % 250) + 1}`;
}

/** A device at one address: a REST client that keeps what the hub sets (session and device token). */
function device(on: TestHub, from = newAddress()): HubApi {
	return new HubApi({ baseUrl: on.url, keepCookies: true, fetch: fetchFrom(from) });
}

/** The same device (its cookies) talking to another hub, through that hub's proxy. */
function sameDeviceOn(on: TestHub, api: HubApi, from = newAddress()): HubApi {
	const cookie = api.cookieHeader() ?? '';
	const viaProxy = fetchFrom(from);
	return new HubApi({
		baseUrl: on.url,
		fetch: (input, init) => {
			const headers = new Headers(init?.headers);
			headers.set('cookie', cookie);
			return viaProxy(input, { ...init, headers });
		},
	});
}

interface Owner {
	username: string;
	/** What the owner's password derives to: what a sign-in sends. */
	authKey: string;
	/** The device the account was made on: it holds a device token for it. */
	phone: HubApi;
}

async function newOwner(
	on: TestHub,
	prefix: string,
	from = newAddress(),
	username = uniqueName(prefix),
): Promise<Owner> {
	const phone = device(on, from);
	let keys: DerivedKeys | null = null;
	await createAccount(phone, username, TEST_PASSWORD, {
		derive: async (...args) => (keys = await deriveInPlace(...args)),
	});
	return { username: username.toLowerCase(), authKey: toB64(keys!.authKey), phone };
}

/** How a sign-in went: "ok", or the refusal's code and the wait it asks for. */
async function signInWith(api: HubApi, username: string, authKey: string): Promise<string> {
	try {
		await api.login({ username, authKey });
		return 'ok';
	} catch (error) {
		if (!(error instanceof ApiError)) throw error;
		return error.retryAfter === null ? error.code : `${error.code} ${error.retryAfter}s`;
	}
}

/** A wrong password: what a stranger guessing sends. */
const guess = () => toB64(randomBytes(32));

describe('lockout that a stranger cannot turn against the owner', () => {
	it("never refuses the owner's known device for a stranger's failures elsewhere, and throttles the same sign-in without it", async () => {
		const alice = await newOwner(hub, 'alice');
		// A stranger guesses from ever new addresses: the third failure locks the account for a minute.
		for (let i = 0; i < 3; i++) {
			expect(await signInWith(device(hub), alice.username, guess())).toBe('INVALID_CREDENTIALS');
		}
		expect(await signInWith(device(hub), alice.username, guess())).toBe('LOCKED_OUT 60s');
		// The right password from a device that never signed in is throttled like the stranger.
		const laptop = device(hub);
		expect(await signInWith(laptop, alice.username, alice.authKey)).toBe('LOCKED_OUT 60s');
		// The phone the account was made on keeps getting in while the stranger keeps trying.
		for (let round = 0; round < 5; round++) {
			expect(await signInWith(device(hub), alice.username, guess())).toBe('LOCKED_OUT 60s');
			expect(await signInWith(alice.phone, alice.username, alice.authKey)).toBe('ok');
		}
		// Its sign-ins do not unlock the account for other devices.
		expect(await signInWith(laptop, alice.username, alice.authKey)).toBe('LOCKED_OUT 60s');
		// A device token stands for one account: alice's phone is a stranger to another locked account.
		const other = await newOwner(hub, 'other');
		for (let i = 0; i < 3; i++) await signInWith(device(hub), other.username, guess());
		expect(await signInWith(alice.phone, other.username, other.authKey)).toBe('LOCKED_OUT 60s');
	});

	it('locks for twice as long after each further failure, up to the cap, and a success starts the count again', async () => {
		const bob = await newOwner(hub, 'bob');
		const stranger = () => signInWith(device(hub), bob.username, guess());
		for (let i = 0; i < 3; i++) expect(await stranger()).toBe('INVALID_CREDENTIALS');
		for (const seconds of [60, 120, 240, 240]) {
			expect(await stranger()).toBe(`LOCKED_OUT ${seconds}s`);
			clock += seconds * SECOND;
			expect(await stranger()).toBe('INVALID_CREDENTIALS');
		}
		expect(await stranger()).toBe('LOCKED_OUT 240s');
		clock += 240 * SECOND;
		// The owner on a new device, once the lock has run out: in, and the failures are forgotten.
		expect(await signInWith(device(hub), bob.username, bob.authKey)).toBe('ok');
		for (let i = 0; i < 3; i++) expect(await stranger()).toBe('INVALID_CREDENTIALS');
		expect(await stranger()).toBe('LOCKED_OUT 60s');
		// The answer says so in the Retry-After header too.
		const response = await fetchFrom(newAddress())(hub.url + ROUTES.login, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ username: bob.username, authKey: guess() }),
		});
		expect(response.status).toBe(429);
		expect(response.headers.get('retry-after')).toBe('60');
		expect(await response.json()).toMatchObject({ error: { code: 'LOCKED_OUT', retryAfter: 60 } });
	});

	it('lets no more guesses sent at once through than the threshold', async () => {
		const kate = await newOwner(hub, 'kate');
		const burst = await Promise.all(
			Array.from({ length: 12 }, () => signInWith(device(hub), kate.username, guess())),
		);
		const passed = burst.filter((outcome) => outcome === 'INVALID_CREDENTIALS').length;
		expect(passed).toBeLessThanOrEqual(3);
		for (const outcome of burst) expect(outcome).toMatch(/^(INVALID_CREDENTIALS|LOCKED_OUT \d+s)$/);
		// What the burst left is a lock or a short count, never more: the owner's phone gets in either way.
		expect(await signInWith(kate.phone, kate.username, kate.authKey)).toBe('ok');
	});

	it('locks an address that fails on many accounts, for every account but those its known devices sign in to', async () => {
		const cafe = newAddress();
		const carol = await newOwner(hub, 'carol', cafe);
		for (let i = 0; i < 5; i++) {
			expect(await signInWith(device(hub, cafe), uniqueName('victim'), guess())).toBe('INVALID_CREDENTIALS');
		}
		expect(await signInWith(device(hub, cafe), uniqueName('victim'), guess())).toBe('LOCKED_OUT 60s');
		// Writing another address into X-Forwarded-For does not help: the hub believes what its proxy saw.
		expect(await signInWith(device(hub, `192.0.2.77, ${cafe}`), uniqueName('victim'), guess())).toBe(
			'LOCKED_OUT 60s',
		);
		// Carol's phone, at the same café, still gets in; a stranger elsewhere is not refused.
		expect(await signInWith(carol.phone, carol.username, carol.authKey)).toBe('ok');
		expect(await signInWith(device(hub), uniqueName('victim'), guess())).toBe('INVALID_CREDENTIALS');
	});

	it('gives a device token a failure limit of its own: past it, that device is a stranger until its lock ends', async () => {
		const dan = await newOwner(hub, 'dan');
		for (let i = 0; i < 3; i++) await signInWith(device(hub), dan.username, guess());
		expect(await signInWith(device(hub), dan.username, guess())).toBe('LOCKED_OUT 60s');
		// Mistyped on the phone: counted against the phone's token, which still exempts it.
		for (let i = 0; i < 3; i++) {
			expect(await signInWith(dan.phone, dan.username, guess())).toBe('INVALID_CREDENTIALS');
		}
		// Past the token's own limit, the account's lock applies to the phone too.
		expect(await signInWith(dan.phone, dan.username, dan.authKey)).toBe('LOCKED_OUT 60s');
		clock += 60 * SECOND;
		expect(await signInWith(dan.phone, dan.username, dan.authKey)).toBe('ok');
	});

	it('takes a malformed sign-in or device cookie for what it is, without counting or crashing', async () => {
		const erin = await newOwner(hub, 'erin');
		const from = fetchFrom(newAddress());
		const post = (body: string, cookie?: string) =>
			from(hub.url + ROUTES.login, {
				method: 'POST',
				headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
				body,
			});
		for (let i = 0; i < 5; i++) {
			const response = await post(JSON.stringify({ username: erin.username, authKey: 'short' }));
			expect(response.status).toBe(400);
			expect(await response.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
		}
		const tooLarge = await post(JSON.stringify({ username: erin.username, authKey: 'A'.repeat(40_000) }));
		expect(tooLarge.status).toBe(413);
		expect(await tooLarge.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
		// A forged or mangled device cookie is no device token: a plain failure, not an error.
		for (const cookie of ['hg_device=forged.token.here', `hg_device=${'~%'.repeat(1500)}`]) {
			const response = await post(JSON.stringify({ username: erin.username, authKey: guess() }), cookie);
			expect(await response.json()).toMatchObject({ error: { code: 'INVALID_CREDENTIALS' } });
		}
		// Only those two failures counted, not the malformed requests: the owner still gets in anywhere.
		expect(await signInWith(device(hub), erin.username, erin.authKey)).toBe('ok');
	});
});

describe('request budgets per address, and the registration caps', () => {
	let limited: TestHub;

	beforeAll(async () => {
		limited = await startTestHub({
			name: 'throttle_caps',
			now,
			env: {
				...LOCKOUT_ENV,
				AUTH_RATE_PER_IP_PER_MINUTE: '5',
				REGISTER_RATE_PER_IP_PER_HOUR: '2',
				REGISTER_RATE_PER_MINUTE: '3',
			},
		});
	});

	afterAll(async () => {
		await limited?.stop();
	});

	async function refusedWith(promise: Promise<unknown>): Promise<ApiError> {
		try {
			await promise;
		} catch (error) {
			if (error instanceof ApiError) return error;
			throw error;
		}
		throw new Error('the hub accepted what it should have refused');
	}

	it('limits the auth requests of one address (prelogin among them), not the others, nor health', async () => {
		const busy = device(limited);
		for (let i = 0; i < 5; i++) await busy.prelogin(uniqueName('any'));
		const refused = await refusedWith(busy.prelogin(uniqueName('any')));
		expect(refused).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
		expect(refused.retryAfter).toBeGreaterThan(0);
		expect(refused.retryAfter).toBeLessThanOrEqual(120);
		await device(limited).prelogin(uniqueName('any'));
		expect((await fetch(limited.url + ROUTES.health)).status).toBe(200);
		// Once the wait it was given has passed, the address may go on.
		clock += (refused.retryAfter ?? 0) * SECOND;
		await busy.prelogin(uniqueName('any'));
	});

	it('caps new accounts per address and over the whole hub, and says how long to wait', async () => {
		clock += 2 * 60 * MINUTE;
		const home = newAddress();
		const first = await newOwner(limited, 'first', home);
		await newOwner(limited, 'second', home);
		const perAddress = await refusedWith(newOwner(limited, 'third', home));
		expect(perAddress).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
		expect(perAddress.message).toMatch(/this address/);
		// Another address may: this makes three this minute, the hub's cap.
		await newOwner(limited, 'fourth');
		const global = await refusedWith(newOwner(limited, 'fifth'));
		expect(global).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
		expect(global.message).toMatch(/this minute/);
		// The hub's own count of its decision, as an operator reads it.
		const throttled = limited.hub.context.metrics.registry.getSingleMetricAsString(
			'hourglass_signin_throttled_total',
		);
		expect(await throttled).toMatch(
			/^hourglass_signin_throttled_total\{limit="register_rate_global"\} [1-9]/m,
		);
		// A refused registration takes nothing: once the wait has passed, it goes through.
		clock += (global.retryAfter ?? 0) * SECOND;
		await newOwner(limited, 'fifth');
		// Signing in is not registering: the address over its registration cap still signs in.
		expect(await signInWith(device(limited, home), first.username, first.authKey)).toBe('ok');
	});
});

describe('counts shared by every hub', () => {
	it('over one database: failures on one hub lock the account on the other, where the device token works too', async () => {
		const second = await startTestHub({ name: 'throttle', mongoUri: hub.mongoUri, now, env: LOCKOUT_ENV });
		try {
			const frank = await newOwner(hub, 'frank');
			for (let i = 0; i < 3; i++) {
				expect(await signInWith(device(hub), frank.username, guess())).toBe('INVALID_CREDENTIALS');
			}
			expect(await signInWith(device(second), frank.username, guess())).toBe('LOCKED_OUT 60s');
			expect(await signInWith(device(second), frank.username, frank.authKey)).toBe('LOCKED_OUT 60s');
			expect(await signInWith(sameDeviceOn(second, frank.phone), frank.username, frank.authKey)).toBe('ok');
		} finally {
			await second.stop();
		}
	});

	describe('over Redis', () => {
		let redis: TestRedis;
		const hubs: TestHub[] = [];

		beforeAll(async () => {
			redis = await startRedis();
			// Each hub over a database of its own: only Redis can carry the counts from one to the other.
			for (const name of ['throttle_redis_a', 'throttle_redis_b']) {
				hubs.push(await startTestHub({ name, redisUrl: redis.url, now, env: LOCKOUT_ENV }));
			}
		});

		afterAll(async () => {
			for (const each of hubs) await each.stop();
			await redis?.stop();
		});

		it('failures on one hub lock the name on the other, and a success there clears them', async () => {
			const [a, b] = hubs;
			const name = uniqueName('gina');
			const onA = await newOwner(a, 'gina', newAddress(), name);
			const onB = await newOwner(b, 'gina', newAddress(), name);
			for (let i = 0; i < 3; i++) {
				expect(await signInWith(device(a), name.toLowerCase(), guess())).toBe('INVALID_CREDENTIALS');
			}
			expect(await signInWith(device(b), onB.username, onB.authKey)).toBe('LOCKED_OUT 60s');
			expect(await signInWith(onB.phone, onB.username, onB.authKey)).toBe('ok');
			clock += 60 * SECOND;
			expect(await signInWith(device(b), onB.username, onB.authKey)).toBe('ok');
			// That success cleared the account's failures for hub A as well.
			for (let i = 0; i < 2; i++) {
				expect(await signInWith(device(a), onA.username, guess())).toBe('INVALID_CREDENTIALS');
			}
			expect(await signInWith(device(a), onA.username, onA.authKey)).toBe('ok');
		});
	});
});
