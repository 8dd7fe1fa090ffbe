import type { ChatEngine } from './engine.svelte';
// sodium.ts alone (not the crypto index, which brings the protocol and zod): a few lines that import
// libsodium on demand, so its download starts beside ./accounts' instead of after it.
import { ready } from '../crypto/sodium';
import type { Account } from '../sdk';
import { clearUnlocked, forgetLastUser, hasUnlocked, lastUser } from './device';

/**
 * - `booting`: reading what this tab and device hold
 * - `signed-out`: no account open here; sign in or create one
 * - `locked`: this device holds an account's sealed data; its password unlocks it (offline too)
 * - `unlocked`: the identity is open and the app runs
 */
export type SessionStatus = 'booting' | 'signed-out' | 'locked' | 'unlocked';

type Accounts = typeof import('./accounts');

/**
 * Who is signed in on this tab, and the engine that runs for them. What opens an account
 * (libsodium, the SDK, the database, the engine: ./accounts) is imported the first time an account
 * is needed, so a first visit paints the sign-in form without it.
 */
class Session {
	#status = $state<SessionStatus>('booting');
	#engine = $state.raw<ChatEngine | null>(null);
	#lockedUser = $state<string | null>(null);
	#endedReason = $state<string | null>(null);
	#booting: Promise<void> | null = null;
	#accounts: Promise<Accounts> | null = null;

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

	/**
	 * Starts loading what opening an account needs (once someone starts typing), so that submitting
	 * does not wait for it. A failure here is met again, and shown, by the submit itself.
	 */
	prepare(): void {
		Promise.all([this.#load(), ready()]).catch(() => {});
	}

	async #boot(): Promise<void> {
		if (hasUnlocked()) {
			// Opening the account this tab holds needs both: fetch them at once.
			const [accounts] = await Promise.all([this.#load(), ready()]);
			const account = await accounts.loadUnlocked();
			if (account) {
				await this.#open(account, false);
				return;
			}
		}
		await this.#toLockedOrSignedOut();
	}

	async createAccount(username: string, password: string): Promise<void> {
		const account = await (await this.#load()).createAccount(username, password);
		await this.#open(account, true);
	}

	async signIn(username: string, password: string, trustDevice: boolean): Promise<void> {
		const account = await (await this.#load()).signIn(username, password, trustDevice);
		await this.#open(account, true);
	}

	/**
	 * Opens this device's sealed account with the password, without needing the network; when the
	 * hub is reachable and the session has lapsed, signs in again with the same derived key.
	 */
	async unlock(password: string): Promise<void> {
		const username = this.#lockedUser;
		if (!username) throw new Error('unlock: no account on this device');
		const accounts = await this.#load();
		const sealed = await accounts.sealedAccountOf(username);
		if (!sealed) throw new Error('This device has no saved account for that user. Sign in instead.');
		const account = await accounts.unlockSealed(sealed, password);
		await this.#open(account, true);
	}

	/** The hub ended the session while the app stayed open: sign in again without closing anything. */
	async reauthenticate(password: string): Promise<void> {
		const engine = this.#engine;
		if (!engine) throw new Error('reauthenticate: nothing is unlocked');
		await (await this.#load()).unlockSealed(engine.account.sealed, password, true);
		this.#endedReason = null;
		engine.connection.reconnect();
	}

	async logout(): Promise<void> {
		const engine = this.#engine;
		try {
			await (await this.#load()).logout();
		} catch {
			// Offline or already ended on the hub: the local part of logging out still happens.
		}
		this.#close(engine);
		await this.#toLockedOrSignedOut();
	}

	/** Forgets this device's copy of an account (its history and keys) after a logout. */
	async removeFromDevice(username: string): Promise<void> {
		await (await this.#load()).deleteAccountDb(username);
		if (lastUser() === username) forgetLastUser();
		this.#lockedUser = null;
		this.#status = 'signed-out';
	}

	/** "Use another account": leave the unlock screen for the sign-in form. */
	useAnotherAccount(): void {
		this.#lockedUser = null;
		this.#status = 'signed-out';
	}

	#load(): Promise<Accounts> {
		this.#accounts ??= import('./accounts').catch((error: unknown) => {
			// A chunk that failed to arrive (offline before it was cached, a deploy in between) is asked for again.
			this.#accounts = null;
			throw error;
		});
		return this.#accounts;
	}

	async #open(account: Account, fresh: boolean): Promise<void> {
		const accounts = await this.#load();
		this.#engine?.stop();
		const engine = await accounts.openEngine(account, fresh, {
			signedOut: (reason) => this.#onSignedOut(reason),
		});
		this.#engine = engine;
		this.#lockedUser = null;
		this.#endedReason = null;
		this.#status = 'unlocked';
		await engine.start();
	}

	#onSignedOut(reason: 'logout' | 'expired' | 'revoked'): void {
		if (reason === 'logout') {
			// Logged out from another tab of this browser: this tab follows.
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
		// Only a device that has held an account needs the database (and so ./accounts) to decide.
		if (user && (await (await this.#load()).sealedAccountOf(user))) {
			this.#lockedUser = user;
			this.#status = 'locked';
			return;
		}
		this.#lockedUser = null;
		this.#status = 'signed-out';
	}
}

export const session = new Session();
