import { ERROR_CODES, LIMITS, ProtocolError } from '../src/lib/protocol';
import { fromB64, publicIdentity, toB64, type DerivedKeys } from '../src/lib/crypto';
import {
	ApiError,
	HubApi,
	Messenger,
	SecondFactorRequired,
	changePassword,
	connectHub,
	deriveInPlace,
	openAccountKeys,
	signIn,
	type Account,
	type Deriver,
	type HubSocket,
	type PinStore,
	type PinnedKeys,
} from '../src/lib/sdk';
import { UsageError, parseCode } from './args';
import { CookieJar } from './cookies';
import { ProfileError, ProfileStore, openVault, sealVault, type Profile, type Vault } from './profile';
import { t } from './i18n';

const CONNECT_TIMEOUT_MS = 10_000;

/** What every command that works on a kept account is given. */
export interface CliContext {
	server: string;
	/** --user, or null for the last account that signed in on this server. */
	user: string | null;
	store: ProfileStore;
	password(prompt: string, confirm?: boolean): Promise<string>;
	/** A two-factor code (TOTP or recovery), asked for when the hub wants one. */
	code(prompt: string): Promise<string>;
	/** A new password, for `hourglass password`. */
	newPassword(prompt: string): Promise<string>;
	out(line: string): void;
	/** A progress line (stderr), rewritten in place; `done` ends it. */
	progress?(line: string, done: boolean): void;
}

export function checkPasswordLength(password: string): void {
	if (password.length < LIMITS.passwordMin || password.length > LIMITS.passwordMax) {
		throw new UsageError(t('password.length', { min: LIMITS.passwordMin, max: LIMITS.passwordMax }));
	}
}

/** How the CLI names itself to the hub: the Devices page shows "Hourglass CLI on Linux". */
export const CLI_USER_AGENT = `hourglass-cli (${process.platform}; node ${process.versions.node})`;

/** A REST client whose session cookie lives in `jar`. */
export function hubApi(server: string, jar: CookieJar): HubApi {
	const withCookies = jar.fetch();
	return new HubApi({
		baseUrl: server,
		fetch: (input, init) => {
			const headers = new Headers(init?.headers);
			headers.set('user-agent', CLI_USER_AGENT);
			return withCookies(input, { ...init, headers });
		},
	});
}

/** Builds a profile from a fresh sign-in, keeping pins, verified marks and cursor from `previous` when given. */
export function profileFrom(
	server: string,
	account: Account,
	jar: CookieJar,
	previous: Pick<Vault, 'pins' | 'verified' | 'cursor' | 'seen' | 'receipts' | 'timers'> | null,
): { profile: Profile; vault: Vault } {
	const vault: Vault = {
		identity: account.identity,
		user: account.user,
		cookies: jar.toJSON(),
		pins: previous?.pins ?? {},
		verified: previous?.verified ?? {},
		cursor: previous?.cursor ?? null,
		seen: previous?.seen ?? {},
		receipts: previous?.receipts ?? { on: false, at: 0 },
		timers: previous?.timers ?? {},
	};
	const profile: Profile = {
		v: 1,
		server,
		username: account.username,
		salt: account.sealed.salt,
		kdf: account.sealed.kdf,
		keyBackup: account.sealed.keyBackup,
		vault: sealVault(vault, account.localKey),
	};
	return { profile, vault };
}

/** An account kept on this device, opened with the password. */
export class LocalSession {
	readonly jar: CookieJar;
	readonly api: HubApi;
	#socket: HubSocket | null = null;

	private constructor(
		readonly ctx: CliContext,
		public profile: Profile,
		public vault: Vault,
		private keys: DerivedKeys,
		private password: string,
	) {
		this.jar = new CookieJar(vault.cookies);
		this.api = hubApi(ctx.server, this.jar);
	}

	/** Opens the kept account: derives the keys from the password and opens the vault, offline. */
	static async open(ctx: CliContext): Promise<LocalSession> {
		const username = ctx.user ?? ctx.store.current(ctx.server);
		const profile = username === null ? null : ctx.store.read(ctx.server, username);
		if (username === null || profile === null) {
			throw new ProfileError(
				'missing',
				t(username ? 'session.noAccountNamed' : 'session.noAccount', {
					username: username ?? '',
					server: ctx.server,
				}),
			);
		}
		const password = await ctx.password(t('prompt.password', { username }));
		checkPasswordLength(password);
		const derived = await deriveInPlace(password, fromB64(profile.salt), profile.kdf);
		let keys: DerivedKeys;
		try {
			keys = { ...derived, localKey: openAccountKeys(profile.keyBackup, derived).localKey };
		} catch {
			throw new ProfileError('wrong-password', t('profile.wrongPassword'));
		}
		const vault = openVault(profile.vault, keys.localKey);
		return new LocalSession(ctx, profile, vault, keys, password);
	}

	get username(): string {
		return this.profile.username;
	}

	/** The authKey derived from the password, for the hub's checks of it (two-factor setup and disable). */
	authKey(): string {
		return toB64(this.keys.authKey);
	}

	/** Reuses the kept session when the hub still knows it, else signs in again. */
	async ensureSignedIn(): Promise<void> {
		if (this.jar.hasSession()) {
			try {
				await this.api.session();
				return;
			} catch (error) {
				if (!(error instanceof ApiError) || error.code !== 'UNAUTHENTICATED') throw error;
				this.jar.forgetSession();
			}
		}
		const account = await completeSecondFactor(
			this.ctx,
			signIn(this.api, this.username, this.password, { derive: this.#cachedDeriver() }),
			null,
		);
		const { profile, vault } = profileFrom(this.ctx.server, account, this.jar, this.vault);
		const sameIdentity =
			publicIdentity(account.identity).signPk === publicIdentity(this.vault.identity).signPk &&
			publicIdentity(account.identity).boxPk === publicIdentity(this.vault.identity).boxPk;
		// Another identity behind the same name (the account was made anew): what was pinned and
		// read under the old one says nothing about the new one.
		if (!sameIdentity)
			Object.assign(vault, {
				pins: {},
				verified: {},
				cursor: null,
				seen: {},
				receipts: { on: false, at: 0 },
				timers: {},
			});
		this.profile = profile;
		this.vault = vault;
		this.keys = { ...this.keys, localKey: account.localKey };
		this.save();
	}

	/**
	 * Changes the password on the hub, then keeps the new salt and key backup here. The vault stays
	 * sealed under the same history key, so nothing local is re-encrypted.
	 */
	async changePassword(newPassword: string, keepOtherSessions: boolean): Promise<number> {
		await this.ensureSignedIn();
		let newKeys: DerivedKeys | null = null;
		const derive: Deriver = async (password, salt, kdf) => {
			const keys = await this.#cachedDeriver()(password, salt, kdf);
			if (password === newPassword) newKeys = keys;
			return keys;
		};
		const changed = await changePassword(this.api, this.account(), this.password, newPassword, {
			derive,
			keepOtherSessions,
		});
		const { salt, kdf, keyBackup } = changed.account.sealed;
		this.profile = { ...this.profile, salt, kdf, keyBackup };
		this.keys = { ...newKeys!, localKey: this.keys.localKey };
		this.password = newPassword;
		this.save();
		return changed.revokedSessions;
	}

	/** Seals the vault again (with the current cookies) and writes the profile. */
	save(): void {
		this.vault.cookies = this.jar.toJSON();
		this.profile = { ...this.profile, vault: sealVault(this.vault, this.keys.localKey) };
		this.ctx.store.write(this.profile);
	}

	account(): Account {
		return {
			username: this.username,
			user: this.vault.user,
			identity: this.vault.identity,
			localKey: this.keys.localKey,
			sealed: {
				username: this.username,
				salt: this.profile.salt,
				kdf: this.profile.kdf,
				keyBackup: this.profile.keyBackup,
				user: this.vault.user,
			},
			expiresAt: 0,
			serverNow: Date.now(),
			lockAfterMs: 0,
			trusted: false,
		};
	}

	pinStore(): PinStore {
		return {
			get: async (username: string) => this.vault.pins[username],
			put: async (pin: PinnedKeys) => {
				this.vault.pins[pin.username] = pin;
			},
		};
	}

	/** A connected socket and a messenger over it; `close()` disconnects. */
	async messenger(): Promise<Messenger> {
		const socket = connectHub(this.ctx.server, { cookie: this.jar.header(), autoConnect: false });
		this.#socket = socket;
		await connected(socket);
		return new Messenger({ api: this.api, socket, account: this.account(), pins: this.pinStore() });
	}

	/** A messenger for key look-ups only: it never opens a socket. */
	offlineMessenger(): Messenger {
		const socket = connectHub(this.ctx.server, { autoConnect: false });
		return new Messenger({ api: this.api, socket, account: this.account(), pins: this.pinStore() });
	}

	close(): void {
		this.#socket?.disconnect();
		this.#socket = null;
	}

	/** Reuses the keys already derived when the hub's salt and cost are the ones kept here. */
	#cachedDeriver(): Deriver {
		return async (password, salt, kdf) => {
			const same =
				password === this.password &&
				toB64(salt) === this.profile.salt &&
				JSON.stringify(kdf) === JSON.stringify(this.profile.kdf);
			return same ? this.keys : deriveInPlace(password, salt, kdf);
		};
	}
}

/**
 * A sign-in that may stop at the password step: completes it with `code` (--code) when given,
 * else with a code the user types.
 */
export async function completeSecondFactor<T>(
	ctx: CliContext,
	signingIn: Promise<T>,
	code: string | null,
): Promise<T> {
	try {
		return await signingIn;
	} catch (error) {
		if (!(error instanceof SecondFactorRequired)) throw error;
		const pending = error as SecondFactorRequired<T>;
		return pending.complete(code ?? parseCode(await ctx.code(t('prompt.code'))));
	}
}

/** Resolves once the socket is connected; a refused handshake throws with the hub's reason. */
function connected(socket: HubSocket): Promise<void> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			cleanup();
			socket.disconnect();
			reject(new ProtocolError('UNAVAILABLE', t('session.connectTimeout', { ms: CONNECT_TIMEOUT_MS })));
		}, CONNECT_TIMEOUT_MS);
		const onConnect = () => {
			cleanup();
			resolve();
		};
		const onError = (error: Error & { data?: { code?: string } }) => {
			cleanup();
			socket.disconnect();
			const code = ERROR_CODES.find((c) => c === error.data?.code) ?? 'UNAVAILABLE';
			reject(new ProtocolError(code, t('session.refused', { reason: error.message })));
		};
		const cleanup = () => {
			clearTimeout(timer);
			socket.off('connect', onConnect);
			socket.off('connect_error', onError);
		};
		socket.on('connect', onConnect);
		socket.on('connect_error', onError);
		socket.connect();
	});
}
