import { t } from '../i18n';
import type { SessionEnded } from '../protocol';
import type { ChatEngine } from './engine.svelte';
// sodium.ts alone (not the crypto index, which brings the protocol and zod): a few lines that import
// libsodium on demand, so its download starts beside ./accounts' instead of after it.
import { ready } from '../crypto/sodium';
import type { Account } from '../sdk';
import { IdleTimer } from './app-lock';
import {
	appLockedUser,
	clearAppLocked,
	clearUnlocked,
	forgetLastUser,
	hasUnlocked,
	lastTerms,
	lastUser,
	markAppLocked,
} from './device';
import type { LockedInbox } from './locked-inbox.svelte';
import { ApiError, SecondFactorRequired } from '../sdk/errors';

/**
 * - `booting`: reading what this tab and device hold
 * - `signed-out`: no account open here; sign in or create one
 * - `locked`: this device holds an account's sealed data; its password unlocks it (offline too).
 *   After the app lock (idle, or "Lock") the session stays signed in and keeps receiving
 *   (`inbox`); after a sign-out it does not.
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
	#inbox = $state.raw<LockedInbox | null>(null);
	#booting: Promise<void> | null = null;
	#accounts: Promise<Accounts> | null = null;
	/** While this tab deletes its account: the hub's session:ended for it is expected. */
	#deleting = false;
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

	/**
	 * Signs in; with two-factor authentication on, throws a SecondFactorRequired whose
	 * `complete(code)` finishes the sign-in (and so do unlock and reauthenticate).
	 */
	async signIn(username: string, password: string, trustDevice: boolean): Promise<void> {
		await afterSignIn((await this.#load()).signIn(username, password, trustDevice), (account) =>
			this.#open(account, true),
		);
	}

	/** The authKey of the open account's password, for the hub's checks of it (two-factor settings). */
	async authKey(password: string): Promise<string> {
		const sealed = this.#engine?.account.sealed;
		if (!sealed) throw new Error('authKey: nothing is unlocked');
		return (await this.#load()).authKeyOf(sealed, password);
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
		if (!sealed) throw new Error(t('session.noAccount'));
		await afterSignIn(
			(async () => {
				try {
					return await accounts.unlockSealed(sealed, password);
				} catch (error) {
					// Only when the local copy did not open (status 0): a refusal by the hub is final, and
					// asking again would count the same wrong password twice.
					if (!(error instanceof ApiError && error.code === 'INVALID_CREDENTIALS' && error.status === 0))
						throw error;
					// The password may have been changed on another device: the hub's key backup opens with
					// the new one and carries the same history key, so this device's history stays readable.
					return afterSignIn(accounts.signIn(username, password, lastTerms().trusted), async (account) => {
						if (account.user.identity.signPk !== sealed.user.identity.signPk) throw error;
						return account;
					});
				}
			})(),
			(account) => this.#open(account, true),
		);
	}

	/**
	 * Changes the password from this device; its session stays, the others end unless kept. This
	 * device keeps the new sealed account, so it unlocks with the new password from now on.
	 */
	async changePassword(current: string, next: string, keepOtherSessions: boolean): Promise<number> {
		const engine = this.#engine;
		if (!engine) throw new Error('changePassword: nothing is unlocked');
		return (await this.#load()).changePassword(engine.account, current, next, keepOtherSessions);
	}

	/**
	 * Deletes the account on the hub (the password, and a code when two-factor authentication is
	 * on), then erases this device's copy of it. On a refusal nothing changes here.
	 */
	async deleteAccount(password: string, code: string | null): Promise<void> {
		const engine = this.#engine;
		if (!engine) throw new Error('deleteAccount: nothing is unlocked');
		const { username } = engine;
		// This tab's own socket hears the deletion too: the erasing below, not #onSignedOut, handles it.
		this.#deleting = true;
		try {
			await (await this.#load()).deleteAccount(engine.account, password, code);
		} catch (error) {
			this.#deleting = false;
			throw error;
		}
		this.#close(engine);
		try {
			await this.removeFromDevice(username);
		} finally {
			this.#deleting = false;
		}
	}

	/** The hub ended the session while the app stayed open: sign in again without closing anything. */
	async reauthenticate(password: string): Promise<void> {
		const engine = this.#engine;
		if (!engine) throw new Error('reauthenticate: nothing is unlocked');
		await afterSignIn((await this.#load()).unlockSealed(engine.account.sealed, password, true), async () => {
			this.#endedReason = null;
			engine.connection.reconnect();
		});
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
			await (await this.#load()).logout();
		} catch {
			// Offline or already ended on the hub: the local part of logging out still happens.
		}
		if (options.erase && username) await this.removeFromDevice(username);
		else await this.#toLockedOrSignedOut();
	}

	/** Forgets this device's copy of an account (its history and keys) after a logout. */
	async removeFromDevice(username: string): Promise<void> {
		this.#stopInbox();
		await (await this.#load()).deleteAccountDb(username);
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
		this.#stopInbox();
		const engine = await accounts.openEngine(account, fresh, {
			signedOut: (reason) => this.#onSignedOut(reason),
		});
		this.#engine = engine;
		this.#lockedUser = null;
		this.#endedReason = null;
		this.#status = 'unlocked';
		this.#idle.start(account.lockAfterMs, () => this.lock());
		await engine.start();
	}

	#onSignedOut(reason: SessionEnded['reason']): void {
		if (reason === 'account-deleted' && this.#deleting) return;
		if (reason === 'expired') {
			this.#endedReason = t('session.expired');
			return;
		}
		// Logged out from another tab of this browser (it follows), signed out from another device, or
		// the password changed elsewhere: either way the keys go, and the password is needed again.
		if (reason === 'revoked') this.#endedReason = t('session.revoked');
		if (reason === 'password-changed') {
			this.#endedReason = t('session.passwordChanged');
		}
		if (reason === 'account-deleted') this.#endedReason = t('session.deleted');
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
		this.#load()
			.then((accounts) => {
				// Unlocked, signed out or another account meanwhile: nothing to receive for.
				if (this.#status !== 'locked' || this.#lockedUser !== username || this.#inbox) return;
				const inbox = accounts.lockedInbox(username, {
					ended: (reason) => {
						if (this.#inbox === inbox) this.#inbox = null;
						clearAppLocked();
						this.#endedReason = reason === 'revoked' ? t('session.revoked') : t('session.endedLocked');
					},
				});
				this.#inbox = inbox;
				return inbox.start();
			})
			.catch((error: unknown) => console.error('hourglass: locked inbox did not start', error));
	}

	#stopInbox(): void {
		this.#inbox?.stop();
		this.#inbox = null;
	}

	async #toLockedOrSignedOut(): Promise<void> {
		const user = lastUser();
		// Only a device that has held an account needs the database (and so ./accounts) to decide.
		if (user && (await (await this.#load()).sealedAccountOf(user))) {
			this.#lockedUser = user;
			this.#status = 'locked';
			// A tab that locked itself and was reloaded goes on receiving.
			if (appLockedUser() === user && !this.#inbox) this.#receiveWhileLocked(user);
			return;
		}
		this.#lockedUser = null;
		this.#status = 'signed-out';
	}
}

/** Runs `next` after a sign-in, also when the sign-in waits for its second factor. */
async function afterSignIn<T>(
	signingIn: Promise<Account>,
	next: (account: Account) => Promise<T>,
): Promise<T> {
	let account: Account;
	try {
		account = await signingIn;
	} catch (error) {
		if (error instanceof SecondFactorRequired) throw (error as SecondFactorRequired<Account>).andThen(next);
		throw error;
	}
	return next(account);
}

export const session = new Session();
