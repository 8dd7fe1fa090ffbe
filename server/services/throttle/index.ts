import { randomBytes } from 'node:crypto';
import { ProtocolError, type ErrorCode } from '../../../src/lib/protocol';
import type { ThrottleConfig } from '../../config';
import type { HubMetrics } from '../../metrics';
import type { SettingsRepo, ThrottleCounters } from '../../store';
import { DeviceTokens } from './device-tokens';
import {
	lockedUntil,
	overLimit,
	retryAfterMs,
	windowIndex,
	type LockoutPolicy,
	type RatePolicy,
} from './policy';
import { sourceOf } from './source';

export { redisCounters } from './redis-counters';

/** The refusals that count as a failed sign-in. */
const FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['INVALID_CREDENTIALS', 'INVALID_TOTP']);
const DEVICE_TOKEN_SECRET = 'device-token-secret';
const MINUTE = 60_000;
const HOUR = 3_600_000;

/** A sign-in or registration as the throttle sees it. */
export interface Attempt {
	/** Canonical (lower-case) username, as the shared schemas give it. */
	username: string;
	/** The client's address (request.ip: X-Forwarded-For only from trusted proxies). */
	ip: string;
	/** The device cookie the request carried, if any. */
	deviceCookie: string | undefined;
	/** The client's user agent, for the activity log of a failure (optional). */
	userAgent?: string;
}

/** A failed sign-in as the throttle saw it: told to its listener (the activity log). */
export interface SignInFailure {
	username: string;
	ip: string;
	userAgent: string;
	reason: 'password' | 'code';
	/** This failure locked the account for unknown devices until then; null when it did not. */
	lockedUntil: number | null;
}

/** What a guarded run learns about the attempt. */
export interface AttemptFacts {
	/** The request carried a valid device token for this account: the device signed in to it before. */
	knownDevice: boolean;
}

/** What a guarded sign-in or registration gave, and the device cookie to set on its reply. */
export interface Admitted<T> {
	result: T;
	deviceCookie: string;
}

export type ThrottleLimit =
	| 'auth_rate'
	| 'register_rate_source'
	| 'register_rate_global'
	| 'account_lockout'
	| 'source_lockout'
	| 'device_lockout';

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** An attempt recorded as a failure before it is decided: taken back unless it fails. */
interface Pending {
	key: string;
	id: string;
}

/**
 * Sign-in throttling that a stranger cannot turn against an account's owner (OWASP's device
 * cookies): failed sign-ins lock the account and the source address for growing times, but a
 * device that signed in to the account before carries a device token that exempts it from both,
 * counted against a failure limit of its own. Request budgets per address guard the auth routes
 * and registration, and a global one registration. Counts live in Redis when the hubs have one,
 * else in the database, so every hub sees the same. What a stranger can and cannot do to the
 * owner is proven in tests/integration/throttle.test.ts ("lockout that a stranger cannot turn
 * against the owner", "counts shared by every hub").
 */
export class SignInThrottle {
	#tokens: DeviceTokens | null = null;
	readonly #account: LockoutPolicy;
	readonly #source: LockoutPolicy;
	readonly #device: LockoutPolicy;

	constructor(
		private readonly counters: ThrottleCounters,
		private readonly settings: SettingsRepo,
		private readonly config: ThrottleConfig,
		private readonly now: () => number,
		private readonly metrics: Pick<HubMetrics, 'signInThrottled'>,
		private readonly onFailure: (failure: SignInFailure) => Promise<void> = () => Promise.resolve(),
	) {
		const { accountFailures, sourceFailures, deviceFailures, ...timing } = config.lockout;
		this.#account = { failures: accountFailures, ...timing };
		this.#source = { failures: sourceFailures, ...timing };
		this.#device = { failures: deviceFailures, ...timing };
	}

	/** Loads (or, on a new database, creates) the device tokens' secret, shared by every hub. */
	async init(): Promise<void> {
		const secret = await this.settings.getOrCreate(DEVICE_TOKEN_SECRET, () =>
			randomBytes(32).toString('base64url'),
		);
		this.#tokens = new DeviceTokens(
			Buffer.from(secret, 'base64url'),
			this.config.deviceTokenDays * 86_400_000,
		);
	}

	/** One request to an auth route from `ip`: refused with RATE_LIMITED past the address's budget. */
	async spendAuthRequest(ip: string): Promise<void> {
		await this.#take(
			`auth:${sourceOf(ip)}`,
			{ limit: this.config.authPerIpPerMinute, windowMs: MINUTE },
			'auth_rate',
			'Too many requests from this address.',
		);
	}

	/**
	 * Runs a registration within the per-address and global caps, so a burst of sign-ups can
	 * neither go on unbounded nor starve sign-ins; a refused name (USERNAME_TAKEN) still counts.
	 */
	async register<T>(attempt: Attempt, run: () => Promise<T>): Promise<Admitted<T>> {
		const source = await this.#take(
			`register:${sourceOf(attempt.ip)}`,
			{ limit: this.config.registerPerIpPerHour, windowMs: HOUR },
			'register_rate_source',
			'Too many new accounts from this address.',
		);
		try {
			await this.#take(
				'register:all',
				{ limit: this.config.registerPerMinute, windowMs: MINUTE },
				'register_rate_global',
				'The hub takes no more new accounts this minute.',
			);
		} catch (error) {
			await source.release();
			throw error;
		}
		const result = await run();
		return { result, deviceCookie: this.#issue(attempt) };
	}

	/**
	 * Runs a sign-in unless its account or address is locked out, and counts it if `run` refuses
	 * the credentials. A valid device token for the account exempts the sign-in from both locks
	 * and has its failures counted apart; past its own limit it exempts nothing until that lock ends.
	 * A success clears the counts that applied (the address's stays: a stranger with an account
	 * of their own could otherwise clear it between guesses).
	 *
	 * Each attempt is recorded as a failure before the locks are read and taken back unless it
	 * fails, so guesses sent at once cannot all pass the check before the first is counted: the
	 * k-th to pass sees the k − 1 before it, and no more than the threshold pass.
	 */
	async login<T>(attempt: Attempt, run: (facts: AttemptFacts) => Promise<T>): Promise<Admitted<T>> {
		const now = this.now();
		const device = this.#deviceTokens().verify(attempt.deviceCookie, attempt.username, now);
		let pending: Pending[] = [];
		if (device !== null) {
			pending = await this.#check([[`fail:device:${device}`, this.#device]], now);
			if (pending.length === 0) this.metrics.signInThrottled.inc({ limit: 'device_lockout' });
		}
		const exempt = pending.length > 0;
		if (!exempt) {
			const accountKey = `fail:account:${attempt.username}`;
			const sourceKey = `fail:source:${sourceOf(attempt.ip)}`;
			pending = await this.#check(
				[
					[accountKey, this.#account],
					[sourceKey, this.#source],
				],
				now,
				(locked, until) => {
					const account = locked === accountKey;
					this.metrics.signInThrottled.inc({ limit: account ? 'account_lockout' : 'source_lockout' });
					const what = account ? 'for this account from unknown devices' : 'from this address';
					const wait = seconds(until - now);
					return new ProtocolError(
						'LOCKED_OUT',
						`Too many failed sign-ins ${what}. Try again in ${wait} s, or sign in from a device that signed in to this account before.`,
						{ retryAfter: wait },
					);
				},
			);
		}
		let result: T;
		try {
			result = await run({ knownDevice: device !== null });
		} catch (error) {
			// Only a wrong password or a wrong second-factor code is a failure (so guessing codes is
			// throttled like guessing passwords); anything else, TOTP_REQUIRED too, takes the attempt back.
			if (!(error instanceof ProtocolError && FAILURES.has(error.code))) await this.#takeBack(pending);
			// The refusal is the answer: a counter that cannot be read for the log must not replace it.
			else
				await this.#failed(attempt, error.code, exempt ? null : pending[0].key, now).catch(() => undefined);
			throw error;
		}
		// The device's failures, or the account's, are forgotten; the address's only this attempt.
		const [cleared, ...others] = pending;
		await Promise.all([this.counters.clear(cleared.key), this.#takeBack(others)]);
		return { result, deviceCookie: this.#issue(attempt) };
	}

	/**
	 * Records an attempt under each key, then reads each key's failures, the attempt's own left
	 * out. When a key is locked the attempt is taken back and `refuse` gives the error to throw,
	 * or, without `refuse`, nothing is recorded and the result is empty.
	 */
	async #check(
		keys: [key: string, policy: LockoutPolicy][],
		now: number,
		refuse?: (key: string, until: number) => ProtocolError,
	): Promise<Pending[]> {
		const expiresAt = now + this.config.lockout.windowMs;
		const pending = await Promise.all(
			keys.map(async ([key]) => ({ key, id: await this.counters.add(key, now, expiresAt) })),
		);
		const locks = await Promise.all(
			keys.map(async ([key, policy], i) => {
				const events = await this.counters.events(key);
				const others = events.filter((event) => event.id !== pending[i].id).map((event) => event.at);
				return { key, until: lockedUntil(others, now, policy) };
			}),
		);
		const locked = locks.filter((lock) => lock.until !== null);
		if (locked.length === 0) return pending;
		await this.#takeBack(pending);
		if (!refuse) return [];
		const longest = locked.reduce((a, b) => ((b.until ?? 0) > (a.until ?? 0) ? b : a));
		throw refuse(longest.key, longest.until ?? now);
	}

	/** Tells the listener of a failure, and whether it locked the account (its count just reached a lock). */
	async #failed(attempt: Attempt, code: ErrorCode, accountKey: string | null, now: number): Promise<void> {
		let until: number | null = null;
		if (accountKey !== null) {
			const events = await this.counters.events(accountKey);
			until = lockedUntil(
				events.map((event) => event.at),
				now,
				this.#account,
			);
		}
		await this.onFailure({
			username: attempt.username,
			ip: attempt.ip,
			userAgent: attempt.userAgent ?? '',
			reason: code === 'INVALID_TOTP' ? 'code' : 'password',
			lockedUntil: until,
		});
	}

	async #takeBack(pending: Pending[]): Promise<void> {
		await Promise.all(pending.map(({ key, id }) => this.counters.remove(key, id)));
	}

	#issue(attempt: Attempt): string {
		return this.#deviceTokens().issue(attempt.deviceCookie, attempt.username, this.now());
	}

	/**
	 * Counts one request under `name` in a sliding window, refusing it (and taking it back) past the
	 * limit. The request is counted before the limit is read, so hubs racing each other can only
	 * refuse too many, never let too many through.
	 */
	async #take(
		name: string,
		policy: RatePolicy,
		limit: ThrottleLimit,
		message: string,
	): Promise<{ release(): Promise<void> }> {
		const now = this.now();
		const index = windowIndex(now, policy.windowMs);
		const key = (i: number) => `rate:${name}:${i}`;
		const id = await this.counters.add(key(index), now, (index + 2) * policy.windowMs);
		const [previous, current] = await Promise.all([
			this.counters.count(key(index - 1)),
			this.counters.count(key(index)),
		]);
		if (overLimit(previous, current, now, policy)) {
			await this.counters.remove(key(index), id);
			this.metrics.signInThrottled.inc({ limit });
			const wait = seconds(retryAfterMs(previous, current - 1, now, policy));
			throw new ProtocolError('RATE_LIMITED', `${message} Try again in ${wait} s.`, { retryAfter: wait });
		}
		return { release: () => this.counters.remove(key(index), id) };
	}

	#deviceTokens(): DeviceTokens {
		if (!this.#tokens) throw new Error('SignInThrottle: init() was not awaited');
		return this.#tokens;
	}
}
