import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
	KDF_DEFAULT,
	ProtocolError,
	type LoginResponse,
	type PreloginResponse,
	type SessionView,
	type UserView,
} from '../../src/lib/protocol';
import type { HubConfig } from '../config';
import { toUserView, type SessionRecord, type Store, type UserRecord } from '../store';
import { hashSecret, verifySecret } from './password-hash';

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

export interface NewSession {
	/** Goes into the cookie only; the database keeps its hash. */
	token: string;
	session: SessionRecord;
	reply: LoginResponse;
}

/** A session is touched in the database at most this often, to keep reads cheap. */
const TOUCH_EVERY_MS = 60_000;
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

	constructor(
		private readonly store: Store,
		private readonly config: HubConfig,
		private readonly now: () => number,
	) {}

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
			authHash: await hashSecret(Buffer.from(input.authKey, 'base64url')),
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
		const matches = await verifySecret(authKey, user?.authHash ?? this.#dummy());
		if (!user || !matches) throw new ProtocolError('INVALID_CREDENTIALS', 'Wrong username or password.');
		return this.#openSession(user, input.trustDevice === true, userAgent);
	}

	/** The live session a cookie's token stands for, sliding its idle expiry; null when none. */
	async authenticate(token: string | undefined): Promise<SessionRecord | null> {
		if (!token) return null;
		return this.check(sessionIdOf(token));
	}

	/** Same as authenticate, by session id (the socket layer re-checks its session with it). */
	async check(sessionId: string): Promise<SessionRecord | null> {
		const session = await this.store.sessions.get(sessionId);
		const now = this.now();
		if (!session || session.expiresAt <= now) return null;
		if (now - session.lastSeenAt >= TOUCH_EVERY_MS) {
			const expiresAt = now + this.#idleMs(session.trusted);
			await this.store.sessions.touch(session.id, now, expiresAt);
			return { ...session, lastSeenAt: now, expiresAt };
		}
		return session;
	}

	/** Deletes the session a token stands for; returns it so its sockets can be ended. */
	async logout(token: string | undefined): Promise<SessionRecord | null> {
		if (!token) return null;
		const session = await this.store.sessions.get(sessionIdOf(token));
		if (!session) return null;
		await this.store.sessions.delete(session.id);
		return session;
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
