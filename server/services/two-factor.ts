import {
	createCipheriv,
	createDecipheriv,
	createHash,
	createHmac,
	randomBytes,
	timingSafeEqual,
} from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';
import {
	ProtocolError,
	RECOVERY_CODE_COUNT,
	TOTP_PARAMS,
	type TotpEnableResponse,
	type TotpSetupResponse,
	type TotpStatus,
} from '../../src/lib/protocol';
import type { SecondFactorRecord, Store, UserRecord } from '../store';
import type { ActivityService, Origin } from './activity';

const SEAL_KEY = 'totp-seal-key';
const TICKET_KEY = 'sign-in-ticket-key';
/** How long the password step of a sign-in stays good for its second step. */
export const TICKET_TTL_MS = 5 * 60_000;
const RECOVERY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** What a sign-in ticket says: whose password was right, and whether the device asked to be trusted. */
export interface SignInTicket {
	username: string;
	trusted: boolean;
	expiresAt: number;
}

const invalidCode = (message = 'Wrong code. Check the time on your device, or use a recovery code.') =>
	new ProtocolError('INVALID_TOTP', message);

/**
 * Two-factor authentication with TOTP (RFC 6238, otplib) and single-use recovery codes. The TOTP
 * secret is a hub-side factor: the hub keeps it sealed (AES-256-GCM, bound to the username) under
 * a key of its settings. Each accepted time step and recovery code is spent by a unique insert,
 * so a code signs in once; a code at or before the last step spent is refused.
 */
export class TwoFactorService {
	#sealKey: Buffer | null = null;
	#ticketKey: Buffer | null = null;

	constructor(
		private readonly store: Store,
		private readonly now: () => number,
		private readonly activity: ActivityService,
	) {}

	async init(): Promise<void> {
		const [seal, ticket] = await Promise.all(
			[SEAL_KEY, TICKET_KEY].map((id) =>
				this.store.settings.getOrCreate(id, () => randomBytes(32).toString('base64url')),
			),
		);
		this.#sealKey = Buffer.from(seal, 'base64url');
		this.#ticketKey = Buffer.from(ticket, 'base64url');
	}

	async isEnabled(username: string): Promise<boolean> {
		return (await this.store.secondFactors.get(username))?.state === 'enabled';
	}

	async status(username: string): Promise<TotpStatus> {
		const factor = await this.store.secondFactors.get(username);
		if (factor?.state !== 'enabled') return { enabled: false, recoveryCodesLeft: 0 };
		const spent = new Set(await this.store.secondFactors.spentRecovery(username));
		return {
			enabled: true,
			recoveryCodesLeft: factor.recoveryHashes.filter((hash) => !spent.has(hash)).length,
		};
	}

	/** A new secret, pending until a first valid code enables it (an earlier pending one is replaced). */
	async setup(username: string): Promise<TotpSetupResponse> {
		if (await this.isEnabled(username)) {
			throw new ProtocolError('TOTP_ALREADY_ENABLED', 'Two-factor authentication is on already.');
		}
		const secret = generateSecret();
		await this.store.secondFactors.putPending(username, this.#seal(secret, username), this.now());
		const uri = generateURI({
			issuer: TOTP_PARAMS.issuer,
			label: username,
			secret,
			digits: TOTP_PARAMS.digits,
			period: TOTP_PARAMS.periodSeconds,
			algorithm: 'sha1',
		});
		return { secret, uri };
	}

	/** Enables the pending secret with its first valid code; answers the recovery codes, once. */
	async enable(username: string, code: string, origin: Origin): Promise<TotpEnableResponse> {
		const factor = await this.store.secondFactors.get(username);
		if (factor?.state === 'enabled') {
			throw new ProtocolError('TOTP_ALREADY_ENABLED', 'Two-factor authentication is on already.');
		}
		if (!factor) throw new ProtocolError('TOTP_NOT_ENABLED', 'Start the setup first.');
		await this.#spendTotp(factor, code);
		const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
		const hashes = recoveryCodes.map((shown) => recoveryHash(username, shown));
		if (!(await this.store.secondFactors.enable(username, hashes, this.now()))) {
			throw new ProtocolError('TOTP_NOT_ENABLED', 'The setup was replaced; start it again.');
		}
		await this.activity.record(username, '2fa-enabled', origin);
		return { recoveryCodes };
	}

	/** Turns the factor off after checking a code (the caller checks the password). */
	async disable(username: string, code: string, origin: Origin): Promise<void> {
		const used = await this.check(username, code);
		await this.store.secondFactors.remove(username);
		if (used === 'recovery') await this.activity.record(username, 'recovery-code-used', origin);
		await this.activity.record(username, '2fa-disabled', origin);
	}

	/** Accepts a TOTP code or a recovery code of an enabled factor once; INVALID_TOTP otherwise. */
	async check(username: string, code: string): Promise<'totp' | 'recovery'> {
		const factor = await this.store.secondFactors.get(username);
		if (factor?.state !== 'enabled') {
			throw new ProtocolError('TOTP_NOT_ENABLED', 'Two-factor authentication is off for this account.');
		}
		if (/^\d{6}$/.test(code)) {
			await this.#spendTotp(factor, code);
			return 'totp';
		}
		const hash = recoveryHash(username, code);
		if (!factor.recoveryHashes.includes(hash)) throw invalidCode('Wrong recovery code.');
		const first = await this.store.secondFactors.spend(username, { kind: 'recovery', hash }, this.now());
		if (!first) throw invalidCode('This recovery code was used already.');
		return 'recovery';
	}

	/** A ticket for the second step, bound to the user's current password hash. */
	issueTicket(user: UserRecord, trusted: boolean): string {
		const payload = Buffer.from(
			JSON.stringify({ u: user.username, t: trusted, e: this.now() + TICKET_TTL_MS }),
		).toString('base64url');
		return `${payload}.${this.#ticketMac(payload, user).toString('base64url')}`;
	}

	/** What a live ticket says, without checking whose password it binds: UNAUTHENTICATED when unreadable or expired. */
	readTicket(ticket: string): SignInTicket {
		const expired = () =>
			new ProtocolError(
				'UNAUTHENTICATED',
				'This sign-in expired or is not valid; enter your password again.',
			);
		const [payload, mac, ...rest] = ticket.split('.');
		if (!payload || !mac || rest.length > 0) throw expired();
		let parsed: unknown;
		try {
			parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
		} catch {
			throw expired();
		}
		const { u, t, e } = (parsed ?? {}) as { u?: unknown; t?: unknown; e?: unknown };
		if (typeof u !== 'string' || typeof t !== 'boolean' || typeof e !== 'number') throw expired();
		if (e <= this.now()) throw expired();
		return { username: u, trusted: t, expiresAt: e };
	}

	/** Whether the hub issued this ticket for this user's current password. */
	ticketMatches(ticket: string, user: UserRecord): boolean {
		const [payload, mac] = ticket.split('.');
		const expected = this.#ticketMac(payload, user);
		const given = Buffer.from(mac ?? '', 'base64url');
		return given.length === expected.length && timingSafeEqual(given, expected);
	}

	async #spendTotp(factor: SecondFactorRecord, code: string): Promise<void> {
		const username = factor.username;
		const last = await this.store.secondFactors.lastStep(username);
		const result = await verify({
			secret: this.#unseal(factor.sealedSecret, username),
			token: code,
			epoch: Math.floor(this.now() / 1000),
			period: TOTP_PARAMS.periodSeconds,
			// ±1 step (30 s) for clocks that drift.
			epochTolerance: TOTP_PARAMS.periodSeconds,
			...(last === null ? {} : { afterTimeStep: last }),
		});
		if (!result.valid || !('timeStep' in result)) throw invalidCode();
		const step = result.timeStep;
		if (!(await this.store.secondFactors.spend(username, { kind: 'totp', step }, this.now()))) {
			throw invalidCode('This code was used already; wait for the next one.');
		}
		await this.store.secondFactors.forgetStepsBefore(username, step);
	}

	#seal(secret: string, username: string): string {
		const iv = randomBytes(12);
		const cipher = createCipheriv('aes-256-gcm', this.#key(this.#sealKey), iv);
		cipher.setAAD(Buffer.from(`totp:${username}`));
		const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
		return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
	}

	#unseal(sealed: string, username: string): string {
		const bytes = Buffer.from(sealed, 'base64url');
		const decipher = createDecipheriv('aes-256-gcm', this.#key(this.#sealKey), bytes.subarray(0, 12));
		decipher.setAAD(Buffer.from(`totp:${username}`));
		decipher.setAuthTag(bytes.subarray(12, 28));
		return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
	}

	#ticketMac(payload: string, user: UserRecord): Buffer {
		return createHmac('sha256', this.#key(this.#ticketKey))
			.update(`${payload}\0${user.username}\0${user.authHash}`)
			.digest();
	}

	#key(key: Buffer | null): Buffer {
		if (!key) throw new Error('TwoFactorService: init() was not awaited');
		return key;
	}
}

/** 16 characters of base32 (80 random bits), shown as four groups of four. */
function newRecoveryCode(): string {
	const chars = [...randomBytes(16)].map((byte) => RECOVERY_ALPHABET[byte & 31]).join('');
	return chars.match(/.{4}/g)!.join('-');
}

/**
 * A fast hash is enough: the codes carry 80 random bits, beyond any offline search. Salted with
 * the username so equal hashes never link two accounts.
 */
function recoveryHash(username: string, code: string): string {
	const normalised = code.replace(/[\s-]+/g, '').toUpperCase();
	return createHash('sha256').update(`recovery:${username}:${normalised}`).digest('base64url');
}
