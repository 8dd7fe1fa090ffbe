import type { SessionEnded } from '../protocol';
import { fromB64, ready, toB64 } from '../crypto';
import {
	ApiError,
	HubApi,
	changePassword,
	createAccount,
	openAccountKeys,
	signIn,
	type Account,
	type SealedAccount,
} from '../sdk';
import { AccountDb, hasAccountDb } from './db';
import { ChatEngine } from './engine.svelte';
import { workerDerive } from './kdf';
import { clearUnlocked, forgetLastUser, lastUser, loadUnlocked, saveUnlocked } from './vault';

/**
 * - `booting`: reading what this tab and device hold
 * - `signed-out`: no account open here; sign in or create one
 * - `locked`: this device holds an account's sealed data; its password unlocks it (offline too)
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
	#booting: Promise<void> | null = null;

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
		let account: Account;
		try {
			account = await this.#unlockSealed(sealed, password);
		} catch (error) {
			// Only when the local copy did not open (status 0): a refusal by the hub is final, and
			// asking again would count the same wrong password twice.
			if (!(error instanceof ApiError && error.code === 'INVALID_CREDENTIALS' && error.status === 0))
				throw error;
			// The password may have been changed on another device: the hub's key backup opens with
			// the new one and carries the same history key, so this device's history stays readable.
			account = await signIn(this.api, username, password, { derive: workerDerive });
			if (account.user.identity.signPk !== sealed.user.identity.signPk) throw error;
		}
		await this.#open(account, true);
	}

	/**
	 * Changes the password from this device; its session stays, the others end unless kept. This
	 * device keeps the new sealed account, so it unlocks with the new password from now on.
	 */
	async changePassword(current: string, next: string, keepOtherSessions: boolean): Promise<number> {
		const engine = this.#engine;
		if (!engine) throw new Error('changePassword: nothing is unlocked');
		const changed = await changePassword(this.api, engine.account, current, next, {
			derive: workerDerive,
			keepOtherSessions,
		});
		const db = new AccountDb(changed.account.username);
		await db.saveSealedAccount(changed.account.sealed);
		db.close();
		engine.account.sealed = changed.account.sealed;
		saveUnlocked(engine.account);
		return changed.revokedSessions;
	}

	/** The hub ended the session while the app stayed open: sign in again without closing anything. */
	async reauthenticate(password: string): Promise<void> {
		const engine = this.#engine;
		if (!engine) throw new Error('reauthenticate: nothing is unlocked');
		await this.#unlockSealed(engine.account.sealed, password, true);
		this.#endedReason = null;
		engine.connection.reconnect();
	}

	async logout(): Promise<void> {
		const engine = this.#engine;
		try {
			await this.api.logout();
		} catch {
			// Offline or already ended on the hub: the local part of logging out still happens.
		}
		this.#close(engine);
		await this.#toLockedOrSignedOut();
	}

	/** Forgets this device's copy of an account (its history and keys) after a logout. */
	async removeFromDevice(username: string): Promise<void> {
		const db = new AccountDb(username);
		await db.delete();
		if (lastUser() === username) forgetLastUser();
		this.#lockedUser = null;
		this.#status = 'signed-out';
	}

	/** "Use another account": leave the unlock screen for the sign-in form. */
	useAnotherAccount(): void {
		this.#lockedUser = null;
		this.#status = 'signed-out';
	}

	async #unlockSealed(sealed: SealedAccount, password: string, requireHub = false): Promise<Account> {
		await ready();
		const keys = await workerDerive(password, fromB64(sealed.salt), sealed.kdf);
		let opened;
		try {
			opened = openAccountKeys(sealed.keyBackup, keys);
		} catch {
			throw new ApiError('INVALID_CREDENTIALS', 'Wrong password.', 0);
		}
		const account: Account = {
			username: sealed.username,
			user: sealed.user,
			identity: opened.identity,
			localKey: opened.localKey,
			sealed,
			expiresAt: 0,
			serverNow: Date.now(),
		};
		try {
			// A session this browser already holds (another tab) is kept: one session per browser,
			// so logging out anywhere ends it for every tab.
			const current = await this.api.session();
			if (current.user.username === sealed.username) {
				account.expiresAt = current.expiresAt;
				return account;
			}
		} catch (error) {
			if (error instanceof ApiError && error.code === 'UNAVAILABLE' && !requireHub) return account;
			if (!(error instanceof ApiError && error.code === 'UNAUTHENTICATED')) throw error;
		}
		try {
			const reply = await this.api.login({ username: sealed.username, authKey: toB64(keys.authKey) });
			account.expiresAt = reply.expiresAt;
		} catch (error) {
			// Offline, the app opens on local data and connects later; other refusals are for the user to see.
			if (requireHub || !(error instanceof ApiError && error.code === 'UNAVAILABLE')) throw error;
		}
		return account;
	}

	async #open(account: Account, fresh: boolean): Promise<void> {
		this.#engine?.stop();
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
		await engine.start();
	}

	#onSignedOut(reason: SessionEnded['reason']): void {
		if (reason === 'logout' || reason === 'password-changed') {
			// Logged out from another tab of this browser, or the password changed elsewhere (the old
			// one no longer opens anything new): this tab follows, to the unlock screen.
			this.#endedReason =
				reason === 'password-changed' ? 'The password was changed on another device: use the new one.' : null;
			this.#close(this.#engine);
			void this.#toLockedOrSignedOut();
			return;
		}
		this.#endedReason =
			reason === 'expired'
				? 'Your session with the hub expired.'
				: 'Your session was ended from another device.';
	}

	#close(engine: ChatEngine | null): void {
		clearUnlocked();
		engine?.stop();
		if (this.#engine === engine) this.#engine = null;
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
				return;
			}
		}
		this.#lockedUser = null;
		this.#status = 'signed-out';
	}
}

export const session = new Session();
