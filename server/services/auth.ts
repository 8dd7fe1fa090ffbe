import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
	KDF_DEFAULT,
	ProtocolError,
	type LoginResponse,
	type PasswordChangeResponse,
	type PreloginResponse,
	type SessionEnded,
	type SessionView,
	type UserView,
} from '../../src/lib/protocol';
import type { HubConfig } from '../config';
import { toUserView, type SessionRecord, type Store, type UserRecord } from '../store';
import { originOf, type ActivityService } from './activity';
import { coarsePlace } from './device-info';
import { PasswordHasher, hashSecret } from './password-hash';
import type { TwoFactorService } from './two-factor';

/** Parsed REST bodies (usernames already lower-cased by the shared schemas). */
export interface RegisterInput {
	username: string;
	salt: string;
	kdf: UserRecord['kdf'];
	authKey: string;
	identity: UserRecord['identity'];
	keyBackup: UserRecord['keyBackup'];
}

export interface LoginInput {
	username: string;
	authKey: string;
	trustDevice?: boolean;
}

/** What the throttle knew of the device that signs in (server/services/throttle). */
export interface SignInFacts {
	/** It carried a valid device token for the account: it signed in to it before. */
	knownDevice: boolean;
}

/** The second step of a sign-in: the ticket the password step gave, and a TOTP or recovery code. */
export interface SecondFactorInput {
	ticket: string;
	code: string;
}

/** What the hub knows of the client that signs in: shown on the Devices page, coarsely. */
export interface ClientInfo {
	userAgent: string;
	/** The request's address; only its network prefix is kept (see coarsePlace). */
	ip: string;
}

export type EndReason = SessionEnded['reason'];
/** A parsed password change; identity and username come from the session, never from here. */
export interface PasswordChangeInput {
	currentAuthKey: string;
	salt: string;
	kdf: UserRecord['kdf'];
	authKey: string;
	keyBackup: UserRecord['keyBackup'];
	keepOtherSessions?: boolean;
}

export interface PasswordChanged {
	reply: PasswordChangeResponse;
	/** The other sessions that ended: the caller ends their sockets. */
	revoked: string[];
}

export interface NewSession {
	/** Goes into the cookie only; the database keeps its hash. */
	token: string;
	session: SessionRecord;
	reply: LoginResponse;
}

/**
 * A session is touched in the database at most this often per hub, by requests and by its open
 * sockets (DeviceService). Sessions last days (SESSION_DAYS), so this only sets how fresh "last
 * seen" is, and keeps the writes rare: one per connected device every quarter of an hour.
 */
export const TOUCH_EVERY_MS = 15 * 60_000;
/**
 * How long a hub trusts a session it read, so a socket handshake (or a socket's re-check) needs no
 * database round trip. Revocation does not wait for it: logout and the socket's own expiry check
 * forget the session on this hub at once and on the others through `onEnded`; this only bounds
 * how long a hub that missed that message (Redis down at that moment) may still let it in.
 */
const SESSION_CACHE_TTL_MS = 5_000;
/**
 * The longest a socket handshake may take from its session check to joining its rooms; a slower
 * one is refused (socket/auth.ts), and a slower database read is never cached. It bounds how long
 * a check that read a session just before it ended may still act on what it read.
 */
export const HANDSHAKE_MAX_MS = 60_000;
/**
 * How long a hub remembers that a session ended (logout, revocation, expiry). Far longer than
 * HANDSHAKE_MAX_MS, so every handshake that read the session before it ended meets the mark after
 * joining its rooms (see `endedReason`). Measured on the process's monotonic clock, not the hub's
 * clock (which tests move).
 */
const ENDED_MEMORY_MS = 10 * 60_000;
/** Sessions remembered per hub; the least recently used is forgotten first. About 300 bytes each. */
const SESSION_CACHE_MAX = 50_000;
const PRELOGIN_SECRET = 'prelogin-secret';

/** The sha256 of a session token: the session's id in the database and in socket rooms. */
export function sessionIdOf(token: string): string {
	return createHash('sha256').update(token).digest('base64url');
}

/**
 * Zero-knowledge accounts: the hub stores the KDF salt and parameters, a slow hash of the
 * authKey, the public identity and the sealed key backup — never a password or a private key.
 */
export class AuthService {
	#preloginSecret: Buffer | null = null;
	/** A real hash of a random key: unknown users cost the same Argon2id as known ones. */
	#dummyHash: string | null = null;
	/** Session id → the record and when it was read; a Map keeps insertion order, oldest first. */
	#cache = new Map<string, { session: SessionRecord; readAt: number }>();
	/** Sessions that ended lately → why and when (performance.now()); oldest first. */
	#ended = new Map<string, { reason: EndReason; at: number }>();
	#tellOtherHubs: (sessionId: string, reason: EndReason) => Promise<void> = () => Promise.resolve();
	readonly #hasher: PasswordHasher;

	constructor(
		private readonly store: Store,
		private readonly config: HubConfig,
		private readonly now: () => number,
		private readonly twoFactor: TwoFactorService,
		private readonly activity: ActivityService,
	) {
		this.#hasher = new PasswordHasher(config.passwordHashConcurrency);
	}

	/** Loads (or, on a new database, creates) the shared prelogin secret. */
	async init(): Promise<void> {
		const secret = await this.store.settings.getOrCreate(PRELOGIN_SECRET, () =>
			randomBytes(32).toString('base64url'),
		);
		this.#preloginSecret = Buffer.from(secret, 'base64url');
		this.#dummyHash = await hashSecret(randomBytes(32));
	}

	/** Salt and KDF for a username; a deterministic fake for unknown ones, so nobody learns who exists. */
	async prelogin(username: string): Promise<PreloginResponse> {
		const user = await this.store.users.get(username);
		const fake = createHmac('sha256', this.#secret()).update(`prelogin-salt:${username}`).digest();
		if (!user) return { salt: fake.subarray(0, 16).toString('base64url'), kdf: { ...KDF_DEFAULT } };
		return { salt: user.salt, kdf: { ...user.kdf } };
	}

	async register(input: RegisterInput, client: ClientInfo): Promise<NewSession> {
		const createdAt = this.now();
		const user: UserRecord = {
			username: input.username,
			salt: input.salt,
			kdf: input.kdf,
			authHash: await this.#hasher.hash(Buffer.from(input.authKey, 'base64url')),
			identity: input.identity,
			keyBackup: input.keyBackup,
			createdAt,
		};
		if (!(await this.store.users.insert(user))) {
			throw new ProtocolError('USERNAME_TAKEN', 'This username is taken.');
		}
		const opened = await this.#openSession(user, false, client);
		await this.activity.record(user.username, 'registered', originOf(client));
		return opened;
	}

	/**
	 * The password step. With two-factor authentication on, no session is opened yet: the refusal
	 * TOTP_REQUIRED carries a ticket for the second step (completeSignIn), so the password is sent once.
	 */
	async login(input: LoginInput, client: ClientInfo, facts: SignInFacts): Promise<NewSession> {
		const user = await this.verifyPassword(input.username, input.authKey);
		const trusted = input.trustDevice === true;
		if (await this.twoFactor.isEnabled(user.username)) {
			throw new ProtocolError(
				'TOTP_REQUIRED',
				'Enter the 6-digit code from your authenticator app, or a recovery code.',
				{ ticket: this.twoFactor.issueTicket(user, trusted) },
			);
		}
		return this.#signIn(user, trusted, client, facts);
	}

	/** The second step: a live ticket for the user's current password, and a code accepted once. */
	async completeSignIn(
		input: SecondFactorInput,
		client: ClientInfo,
		facts: SignInFacts,
	): Promise<NewSession> {
		const ticket = this.twoFactor.readTicket(input.ticket);
		const user = await this.store.users.get(ticket.username);
		if (!user || !this.twoFactor.ticketMatches(input.ticket, user)) {
			throw new ProtocolError(
				'UNAUTHENTICATED',
				'This sign-in is not valid any more; enter your password again.',
			);
		}
		const used = await this.twoFactor.check(user.username, input.code);
		if (used === 'recovery')
			await this.activity.record(user.username, 'recovery-code-used', originOf(client));
		return this.#signIn(user, ticket.trusted, client, facts);
	}

	/** The user whose password this authKey is; INVALID_CREDENTIALS, in the same time, otherwise. */
	async verifyPassword(username: string, authKeyB64: string): Promise<UserRecord> {
		const user = await this.store.users.get(username);
		const authKey = Buffer.from(authKeyB64, 'base64url');
		// Verify against a dummy hash for an unknown user: both failures take the same time.
		const matches = await this.#hasher.verify(authKey, user?.authHash ?? this.#dummy());
		if (!user || !matches) throw new ProtocolError('INVALID_CREDENTIALS', 'Wrong username or password.');
		return user;
	}

	/**
	 * Changes the password of the session's account. The current password is proved by its authKey
	 * (a wrong one is INVALID_CREDENTIALS, which the throttle counts); the new salt, KDF, authKey
	 * hash and key backup are written in one update, so until it lands the old password works and
	 * after it only the new one. Then every other session ends, unless the user keeps them.
	 */
	async changePassword(session: SessionRecord, input: PasswordChangeInput): Promise<PasswordChanged> {
		const user = await this.store.users.get(session.username);
		if (!user) throw new ProtocolError('UNAUTHENTICATED', 'This account no longer exists.');
		const current = Buffer.from(input.currentAuthKey, 'base64url');
		if (!(await this.#hasher.verify(current, user.authHash))) {
			throw new ProtocolError('INVALID_CREDENTIALS', 'The current password is wrong.');
		}
		if (input.salt === user.salt) {
			throw new ProtocolError('BAD_REQUEST', 'A new password needs a new salt.');
		}
		const next = {
			salt: input.salt,
			kdf: input.kdf,
			authHash: await this.#hasher.hash(Buffer.from(input.authKey, 'base64url')),
			keyBackup: input.keyBackup,
		};
		if (!(await this.store.users.replaceCredentials(user.username, user.authHash, next))) {
			throw new ProtocolError('INVALID_CREDENTIALS', 'The password was changed meanwhile; sign in again.');
		}
		let revoked: string[] = [];
		if (input.keepOtherSessions !== true) {
			revoked = (await this.store.sessions.idsOfUser(user.username)).filter((id) => id !== session.id);
			await this.store.sessions.deleteMany(revoked);
			await this.ended(revoked, 'password-changed');
		}
		await this.activity.record(user.username, 'password-changed', session, { count: revoked.length });
		return {
			reply: {
				salt: next.salt,
				kdf: { ...next.kdf },
				keyBackup: { ...next.keyBackup },
				revokedSessions: revoked.length,
			},
			revoked,
		};
	}

	/** The live session a cookie's token stands for, sliding its expiry; null when none. */
	async authenticate(token: string | undefined): Promise<SessionRecord | null> {
		if (!token) return null;
		const session = await this.check(sessionIdOf(token));
		return session && this.touch(session);
	}

	/**
	 * The live session with this id, without sliding its expiry (see touch): the socket layer
	 * re-checks its session with it. Read from this hub's cache when it was read less than
	 * SESSION_CACHE_TTL_MS ago.
	 */
	async check(sessionId: string): Promise<SessionRecord | null> {
		if (this.endedReason(sessionId)) return null;
		const now = this.now();
		let session = this.#cached(sessionId, now);
		if (!session) {
			const started = performance.now();
			session = await this.store.sessions.get(sessionId);
			if (!session || session.expiresAt <= now || this.endedReason(sessionId)) {
				this.#cache.delete(sessionId);
				return null;
			}
			this.#remember(session, now, started);
		}
		return session;
	}

	/**
	 * Slides a live session's expiry: one write at most every TOUCH_EVERY_MS per session and hub.
	 * Null when the session ended meanwhile: a touch never brings one back, in the database or here.
	 */
	async touch(session: SessionRecord): Promise<SessionRecord | null> {
		const now = this.now();
		if (now - session.lastSeenAt < TOUCH_EVERY_MS) return session;
		const touched = { ...session, lastSeenAt: now, expiresAt: now + this.#lifetimeMs() };
		const started = performance.now();
		if (!(await this.store.sessions.touch(session.id, now, touched.expiresAt))) {
			this.#cache.delete(session.id);
			return null;
		}
		if (this.endedReason(session.id)) return null;
		this.#remember(touched, now, started);
		return touched;
	}

	/**
	 * Slides the expiry of a session by its id (an open socket is activity: DeviceService calls this
	 * for the sessions connected to this hub). False when the session is gone.
	 */
	async keepAlive(sessionId: string): Promise<boolean> {
		const now = this.now();
		const expiresAt = now + this.#lifetimeMs();
		const alive = await this.store.sessions.touch(sessionId, now, expiresAt);
		const cached = this.#cache.get(sessionId);
		if (!alive) this.#cache.delete(sessionId);
		else if (cached) cached.session = { ...cached.session, lastSeenAt: now, expiresAt };
		return alive;
	}

	/** Deletes the session a token stands for, here and in every hub's cache; returns it so its sockets can be ended. */
	async logout(token: string | undefined): Promise<SessionRecord | null> {
		if (!token) return null;
		const session = await this.store.sessions.get(sessionIdOf(token));
		if (!session) return null;
		await this.store.sessions.delete(session.id);
		await this.ended([session.id], 'logout');
		return session;
	}

	/**
	 * Sessions that ended (logout, revocation, expiry), called once they are gone from the database
	 * and before their sockets are told: marked ended on this hub at once and on the others before
	 * this resolves, so none of them opens a socket for it after the caller replies, and no socket
	 * whose handshake overlapped the end survives it (see `endedReason`).
	 */
	async ended(sessionIds: string[], reason: EndReason): Promise<void> {
		for (const id of sessionIds) this.forget(id, reason);
		await Promise.all(sessionIds.map((id) => this.#tellOtherHubs(id, reason)));
		// A signed-out device is never woken again, and the hub keeps no endpoint of it.
		await this.store.push.deleteMany(sessionIds);
	}

	/** A session that ended (on this hub or another): this hub forgets it and remembers that it ended. */
	forget(sessionId: string, reason: EndReason): void {
		this.#cache.delete(sessionId);
		const at = performance.now();
		this.#ended.delete(sessionId);
		this.#ended.set(sessionId, { reason, at });
		for (const [id, mark] of this.#ended) {
			if (at - mark.at < ENDED_MEMORY_MS) break;
			this.#ended.delete(id);
		}
	}

	/**
	 * Why the session ended, if it ended lately; null otherwise. A socket checks this once it has
	 * joined its session's room, which makes logout final whatever the timing: the mark is set
	 * before the session's sockets are disconnected, so a socket that joined before the mark is in
	 * the room when they are, and one that joined after it sees the mark. A handshake that read the
	 * session before it ended joins within HANDSHAKE_MAX_MS, long before the mark is dropped.
	 */
	endedReason(sessionId: string): EndReason | null {
		const mark = this.#ended.get(sessionId);
		if (!mark) return null;
		if (performance.now() - mark.at < ENDED_MEMORY_MS) return mark.reason;
		this.#ended.delete(sessionId);
		return null;
	}

	/** How `ended` reaches the other hubs (set by the hub when it runs beside others). */
	onEnded(tellOtherHubs: (sessionId: string, reason: EndReason) => Promise<void>): void {
		this.#tellOtherHubs = tellOtherHubs;
	}

	#cached(sessionId: string, now: number): SessionRecord | null {
		const entry = this.#cache.get(sessionId);
		if (!entry) return null;
		if (now - entry.readAt >= SESSION_CACHE_TTL_MS || entry.session.expiresAt <= now) {
			this.#cache.delete(sessionId);
			return null;
		}
		return entry.session;
	}

	/** Caches a record read at `readStarted` (performance.now()), unless the read was too slow to trust. */
	#remember(session: SessionRecord, now: number, readStarted: number): void {
		if (performance.now() - readStarted > HANDSHAKE_MAX_MS) return;
		this.#cache.delete(session.id);
		this.#cache.set(session.id, { session, readAt: now });
		if (this.#cache.size > SESSION_CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value!);
	}

	async sessionView(session: SessionRecord): Promise<SessionView> {
		const user = await this.store.users.get(session.username);
		if (!user) throw new ProtocolError('UNAUTHENTICATED', 'This account no longer exists.');
		return {
			user: toUserView(user),
			expiresAt: session.expiresAt,
			serverNow: this.now(),
			lockAfterMs: this.#lockAfterMs(),
			trusted: session.trusted,
		};
	}

	async userKeys(username: string): Promise<UserView> {
		const user = await this.store.users.get(username);
		if (!user) throw new ProtocolError('NOT_FOUND', 'No user has this name.');
		return toUserView(user);
	}

	/** A sign-in that passed every check: its session, and its line in the activity log. */
	async #signIn(
		user: UserRecord,
		trusted: boolean,
		client: ClientInfo,
		facts: SignInFacts,
	): Promise<NewSession> {
		const opened = await this.#openSession(user, trusted, client);
		await this.activity.record(user.username, 'sign-in', originOf(client), { newDevice: !facts.knownDevice });
		return opened;
	}

	async #openSession(user: UserRecord, trusted: boolean, client: ClientInfo): Promise<NewSession> {
		const token = randomBytes(32).toString('base64url');
		const now = this.now();
		const session: SessionRecord = {
			id: sessionIdOf(token),
			username: user.username,
			createdAt: now,
			lastSeenAt: now,
			expiresAt: now + this.#lifetimeMs(),
			trusted,
			userAgent: client.userAgent.slice(0, 256),
			place: coarsePlace(client.ip),
		};
		await this.store.sessions.insert(session);
		return {
			token,
			session,
			reply: {
				user: toUserView(user),
				salt: user.salt,
				kdf: { ...user.kdf },
				keyBackup: { ...user.keyBackup },
				expiresAt: session.expiresAt,
				serverNow: now,
				lockAfterMs: this.#lockAfterMs(),
				trusted,
			},
		};
	}

	/** Every session, trusted device or not, slides over SESSION_DAYS; trust decides what the browser keeps (cookies.ts). */
	#lifetimeMs(): number {
		return this.config.sessionDays * 86_400_000;
	}

	/** The app lock is the PWA's: the hub only tells it SESSION_IDLE_MINUTES. */
	#lockAfterMs(): number {
		return this.config.sessionIdleMinutes * 60_000;
	}

	#secret(): Buffer {
		if (!this.#preloginSecret) throw new Error('AuthService: init() was not awaited');
		return this.#preloginSecret;
	}

	#dummy(): string {
		if (!this.#dummyHash) throw new Error('AuthService: init() was not awaited');
		return this.#dummyHash;
	}
}
