import { fromB64, openIdentityBackup, ready, toB64 } from '../crypto';
import { ApiError, HubApi, createAccount, signIn, type Account, type SealedAccount } from '../sdk';
import { IdleTimer } from './app-lock';
import { AccountDb, hasAccountDb } from './db';
import { ChatEngine } from './engine.svelte';
import { workerDerive } from './kdf';
import { LockedInbox } from './locked-inbox.svelte';
import { deletePending } from './pending';
import {
	appLockedUser,
	clearAppLocked,
	clearUnlocked,
	forgetLastUser,
	lastTerms,
	lastUser,
	loadUnlocked,
	markAppLocked,
	saveUnlocked,
} from './vault';

/**
 * - `booting`: reading what this tab and device hold
 * - `signed-out`: no account open here; sign in or create one
 * - `locked`: this device holds an account's sealed data; its password unlocks it (offline too).
 *   After the app lock (idle, or "Lock") the session stays signed in and keeps receiving
 *   (`inbox`); after a sign-out it does not.
 * - `unlocked`: the identity is open and the app runs
 */
export type SessionStatus = 'booting' | 'signed-out' | 'locked' | 'unlocked';

/** Who is signed in on this tab, and the engine that runs for them. */
class Session {
	readonly api = new HubApi({ baseUrl: '' });
	#status = $state<SessionStatus>('booting');
	#engine = $state.raw<ChatEngine | null>(null);
	#lockedUser = $state<string | null>(null);
	#endedReason = $state<string | null>(null);
	#inbox = $state.raw<LockedInbox | null>(null);
	#booting: Promise<void> | null = null;
	readonly #idle = new IdleTimer();

	get status(): SessionStatus {
		return this.#status;
	}

	get engine(): ChatEngine | null {
		return this.#engine;
	}

	/** The account a locked device offers to unlock. */
	get lockedUser(): string | null {
		return this.#lockedUser;
	}

	/** Why the hub ended the session, to explain the sign-in screen. */
	get endedReason(): string | null {
		return this.#endedReason;
	}

	/** While locked after idle (or "Lock"): what keeps receiving, and how much waits to be opened. */
	get inbox(): LockedInbox | null {
		return this.#inbox;
	}

	/** Whether the user marked this device as trusted when signing in (it decides what "Sign out" erases by default). */
	get trusted(): boolean {
		return this.#engine?.account.trusted ?? lastTerms().trusted;
	}

	boot(): Promise<void> {
		this.#booting ??= this.#boot();
		return this.#booting;
	}

	async #boot(): Promise<void> {
		const account = await loadUnlocked();
		if (account) {
			await this.#open(account, false);
			return;
		}
		await this.#toLockedOrSignedOut();
	}

	async createAccount(username: string, password: string): Promise<void> {
		const account = await createAccount(this.api, username, password, { derive: workerDerive });
		await this.#open(account, true);
	}

	async signIn(username: string, password: string, trustDevice: boolean): Promise<void> {
		const account = await signIn(this.api, username, password, { derive: workerDerive, trustDevice });
		await this.#open(account, true);
	}

	/**
	 * Opens this device's sealed account with the password, without needing the network; when the
	 * hub is reachable and the session has lapsed, signs in again with the same derived key.
	 */
	async unlock(password: string): Promise<void> {
		const username = this.#lockedUser;
		if (!username) throw new Error('unlock: no account on this device');
		const db = new AccountDb(username);
		const sealed = await db.sealedAccount();
		db.close();
		if (!sealed) throw new Error('This device has no saved account for that user. Sign in instead.');
		const account = await this.#unlockSealed(sealed, password);
		await this.#open(account, true);
	}

	/** The hub ended the session while the app stayed open: sign in again without closing anything. */
	async reauthenticate(password: string): Promise<void> {
		const engine = this.#engine;
		if (!engine) throw new Error('reauthenticate: nothing is unlocked');
		await this.#unlockSealed(engine.account.sealed, password, true);
		this.#endedReason = null;
		engine.connection.reconnect();
	}

	/**
	 * The app lock: forgets the keys (this tab's copy included) and shows the unlock screen, while
	 * the session stays signed in and keeps receiving into this device (LockedInbox). Called after
	 * SESSION_IDLE_MINUTES without interaction, and by "Lock".
	 */
	lock(): void {
		const engine = this.#engine;
		if (!engine || this.#status !== 'unlocked') return;
		const { username } = engine;
		const stillSignedIn = engine.connection.state !== 'signed-out';
		this.#close(engine);
		this.#lockedUser = username;
		this.#status = 'locked';
		if (stillSignedIn) {
			markAppLocked(username);
			this.#receiveWhileLocked(username);
		}
	}

	/**
	 * Ends this device's session on the hub and closes the app. With `erase`, this device's copy of
	 * the account (history, keys sealed with the password, what arrived while locked) goes too.
	 */
	async logout(options: { erase?: boolean } = {}): Promise<void> {
		const engine = this.#engine;
		const username = engine?.username ?? this.#lockedUser;
		// Closed first, so this tab's own socket does not hear the logout and race the erasing.
		this.#close(engine);
		this.#stopInbox();
		try {
			await this.api.logout();
		} catch {
			// Offline or already ended on the hub: the local part of logging out still happens.
		}
		if (options.erase && username) await this.removeFromDevice(username);
		else await this.#toLockedOrSignedOut();
	}

	/** Forgets this device's copy of an account (its history and keys) after a logout. */
	async removeFromDevice(username: string): Promise<void> {
		this.#stopInbox();
		const db = new AccountDb(username);
		await db.delete();
		await deletePending(username);
		if (lastUser() === username) forgetLastUser();
		this.#lockedUser = null;
		this.#status = 'signed-out';
	}

	/** "Use another account": leave the unlock screen for the sign-in form. */
	useAnotherAccount(): void {
		this.#stopInbox();
		clearAppLocked();
		this.#lockedUser = null;
		this.#status = 'signed-out';
	}

	async #unlockSealed(sealed: SealedAccount, password: string, requireHub = false): Promise<Account> {
		await ready();
		const keys = await workerDerive(password, fromB64(sealed.salt), sealed.kdf);
		let identity;
		try {
			identity = openIdentityBackup(sealed.keyBackup, keys.wrapKey);
		} catch {
			throw new ApiError('INVALID_CREDENTIALS', 'Wrong password.', 0);
		}
		const account: Account = {
			username: sealed.username,
			user: sealed.user,
			identity,
			localKey: keys.localKey,
			sealed,
			expiresAt: 0,
			serverNow: Date.now(),
			...lastTerms(),
		};
		try {
			// A session this browser already holds (another tab, or this one before its app lock) is
			// kept: one session per browser, so logging out anywhere ends it for every tab.
			const current = await this.api.session();
			if (current.user.username === sealed.username) {
				Object.assign(account, {
					expiresAt: current.expiresAt,
					lockAfterMs: current.lockAfterMs,
					trusted: current.trusted,
				});
				return account;
			}
		} catch (error) {
			if (error instanceof ApiError && error.code === 'UNAVAILABLE' && !requireHub) return account;
			if (!(error instanceof ApiError && error.code === 'UNAUTHENTICATED')) throw error;
		}
		try {
			const reply = await this.api.login({
				username: sealed.username,
				authKey: toB64(keys.authKey),
				trustDevice: account.trusted,
			});
			Object.assign(account, {
				expiresAt: reply.expiresAt,
				lockAfterMs: reply.lockAfterMs,
				trusted: reply.trusted,
			});
		} catch (error) {
			// Offline, the app opens on local data and connects later; other refusals are for the user to see.
			if (requireHub || !(error instanceof ApiError && error.code === 'UNAVAILABLE')) throw error;
		}
		return account;
	}

	async #open(account: Account, fresh: boolean): Promise<void> {
		this.#engine?.stop();
		this.#stopInbox();
		const db = new AccountDb(account.username);
		if (fresh) await db.saveSealedAccount(account.sealed);
		saveUnlocked(account);
		const engine = new ChatEngine(this.api, account, db, {
			signedOut: (reason) => this.#onSignedOut(reason),
		});
		this.#engine = engine;
		this.#lockedUser = null;
		this.#endedReason = null;
		this.#status = 'unlocked';
		this.#idle.start(account.lockAfterMs, () => this.lock());
		await engine.start();
	}

	#onSignedOut(reason: 'logout' | 'expired' | 'revoked'): void {
		if (reason === 'expired') {
			this.#endedReason = 'Your session with the hub expired.';
			return;
		}
		// Logged out from another tab of this browser (it follows), or signed out from another
		// device: either way the keys go, and the password is needed again.
		if (reason === 'revoked') this.#endedReason = 'This device was signed out from another device.';
		this.#close(this.#engine);
		void this.#toLockedOrSignedOut();
	}

	#close(engine: ChatEngine | null): void {
		this.#idle.stop();
		clearUnlocked();
		clearAppLocked();
		engine?.stop();
		if (this.#engine === engine) this.#engine = null;
	}

	#receiveWhileLocked(username: string): void {
		this.#stopInbox();
		const inbox = new LockedInbox(username, {
			ended: (reason) => {
				if (this.#inbox === inbox) this.#inbox = null;
				clearAppLocked();
				this.#endedReason =
					reason === 'revoked'
						? 'This device was signed out from another device.'
						: 'The hub ended this session: nothing more arrives until you unlock.';
			},
		});
		this.#inbox = inbox;
		inbox.start().catch((error: unknown) => console.error('hourglass: locked inbox did not start', error));
	}

	#stopInbox(): void {
		this.#inbox?.stop();
		this.#inbox = null;
	}

	async #toLockedOrSignedOut(): Promise<void> {
		const user = lastUser();
		if (user && (await hasAccountDb(user))) {
			const db = new AccountDb(user);
			const sealed = await db.sealedAccount();
			db.close();
			if (sealed) {
				this.#lockedUser = user;
				this.#status = 'locked';
				// A tab that locked itself and was reloaded goes on receiving.
				if (appLockedUser() === user && !this.#inbox) this.#receiveWhileLocked(user);
				return;
			}
		}
		this.#lockedUser = null;
		this.#status = 'signed-out';
	}
}

export const session = new Session();
