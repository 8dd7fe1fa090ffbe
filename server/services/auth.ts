import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
	KDF_DEFAULT,
	ProtocolError,
	type LoginResponse,
	type PasswordChangeResponse,
	type PreloginResponse,
	type SessionView,
	type UserView,
} from '../../src/lib/protocol';
import type { HubConfig } from '../config';
import { toUserView, type SessionRecord, type Store, type UserRecord } from '../store';
import { PasswordHasher, hashSecret } from './password-hash';

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

/** A session is touched in the database at most this often, to keep reads cheap. */
const TOUCH_EVERY_MS = 60_000;
/**
 * How long a hub trusts a session it read, so a socket handshake (or a socket's re-check) needs no
 * database round trip. Revocation does not wait for it: logout and the socket's own expiry check
 * forget the session on this hub at once and on the others through `onEnded`; this only bounds
 * how long a hub that missed that message (Redis down at that moment) may still let it in.
 */
const SESSION_CACHE_TTL_MS = 5_000;
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
	#tellOtherHubs: (sessionId: string) => Promise<void> = () => Promise.resolve();
	readonly #hasher: PasswordHasher;

	constructor(
		private readonly store: Store,
		private readonly config: HubConfig,
		private readonly now: () => number,
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

	async register(input: RegisterInput, userAgent: string): Promise<NewSession> {
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
		return this.#openSession(user, false, userAgent);
	}

	async login(input: LoginInput, userAgent: string): Promise<NewSession> {
		const user = await this.store.users.get(input.username);
		const authKey = Buffer.from(input.authKey, 'base64url');
		// Verify against a dummy hash for an unknown user: both failures take the same time.
		const matches = await this.#hasher.verify(authKey, user?.authHash ?? this.#dummy());
		if (!user || !matches) throw new ProtocolError('INVALID_CREDENTIALS', 'Wrong username or password.');
		return this.#openSession(user, input.trustDevice === true, userAgent);
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
			await this.ended(revoked);
		}
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

	/** The live session a cookie's token stands for, sliding its idle expiry; null when none. */
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
		const now = this.now();
		let session = this.#cached(sessionId, now);
		if (!session) {
			session = await this.store.sessions.get(sessionId);
			if (!session || session.expiresAt <= now) {
				this.#cache.delete(sessionId);
				return null;
			}
			this.#remember(session, now);
		}
		return session;
	}

	/** Slides a live session's idle expiry: one write at most every TOUCH_EVERY_MS per session and hub. */
	async touch(session: SessionRecord): Promise<SessionRecord> {
		const now = this.now();
		if (now - session.lastSeenAt < TOUCH_EVERY_MS) return session;
		const touched = { ...session, lastSeenAt: now, expiresAt: now + this.#idleMs(session.trusted) };
		await this.store.sessions.touch(session.id, now, touched.expiresAt);
		this.#remember(touched, now);
		return touched;
	}

	/** Deletes the session a token stands for, here and in every hub's cache; returns it so its sockets can be ended. */
	async logout(token: string | undefined): Promise<SessionRecord | null> {
		if (!token) return null;
		const session = await this.store.sessions.get(sessionIdOf(token));
		if (!session) return null;
		await this.store.sessions.delete(session.id);
		await this.ended([session.id]);
		return session;
	}

	/**
	 * Sessions that ended (logout, expiry): forgotten by this hub at once and by the others before
	 * this resolves, so none of them opens a socket for it after the caller replies.
	 */
	async ended(sessionIds: string[]): Promise<void> {
		for (const id of sessionIds) this.#cache.delete(id);
		await Promise.all(sessionIds.map((id) => this.#tellOtherHubs(id)));
	}

	/** A session another hub ended: this hub forgets it. */
	forget(sessionId: string): void {
		this.#cache.delete(sessionId);
	}

	/** How `ended` reaches the other hubs (set by the hub when it runs beside others). */
	onEnded(tellOtherHubs: (sessionId: string) => Promise<void>): void {
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

	#remember(session: SessionRecord, now: number): void {
		this.#cache.delete(session.id);
		this.#cache.set(session.id, { session, readAt: now });
		if (this.#cache.size > SESSION_CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value!);
	}

	async sessionView(session: SessionRecord): Promise<SessionView> {
		const user = await this.store.users.get(session.username);
		if (!user) throw new ProtocolError('UNAUTHENTICATED', 'This account no longer exists.');
		return { user: toUserView(user), expiresAt: session.expiresAt, serverNow: this.now() };
	}

	async userKeys(username: string): Promise<UserView> {
		const user = await this.store.users.get(username);
		if (!user) throw new ProtocolError('NOT_FOUND', 'No user has this name.');
		return toUserView(user);
	}

	async #openSession(user: UserRecord, trusted: boolean, userAgent: string): Promise<NewSession> {
		const token = randomBytes(32).toString('base64url');
		const now = this.now();
		const session: SessionRecord = {
			id: sessionIdOf(token),
			username: user.username,
			createdAt: now,
			lastSeenAt: now,
			expiresAt: now + this.#idleMs(trusted),
			trusted,
			userAgent: userAgent.slice(0, 256),
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
			},
		};
	}

	#idleMs(trusted: boolean): number {
		return trusted ? this.config.sessionTrustedDays * 86_400_000 : this.config.sessionIdleMinutes * 60_000;
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
