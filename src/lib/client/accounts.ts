// Everything that opens an account on this device: libsodium, the SDK, the account's database and
// the engine. The session imports this module the first time it needs an account, so the sign-in
// form paints before any of it has loaded (see session.svelte.ts).
import { fromB64, ready, toB64 } from '../crypto';
import {
	ApiError,
	HubApi,
	SecondFactorRequired,
	changePassword as changeAccountPassword,
	deleteAccount as deleteHubAccount,
	openAccountKeys,
	createAccount as registerAccount,
	loginWithKey,
	signIn as signInAccount,
	type Account,
	type SealedAccount,
} from '../sdk';
import { AccountDb, hasAccountDb } from './db';
import { lastTerms } from './device';
import { ChatEngine, type EngineEvents } from './engine.svelte';
import { workerDerive } from './kdf';
import { LockedInbox, type LockedInboxEvents } from './locked-inbox.svelte';
import { deletePending } from './pending';
import { loadUnlocked, saveUnlocked } from './vault';

/** The hub this PWA was served from. */
export const api = new HubApi({ baseUrl: '' });

export { loadUnlocked };

export function createAccount(username: string, password: string): Promise<Account> {
	return registerAccount(api, username, password, { derive: workerDerive });
}

export function signIn(username: string, password: string, trustDevice: boolean): Promise<Account> {
	return signInAccount(api, username, password, { derive: workerDerive, trustDevice });
}

/** The sealed copy of `username`'s account this device keeps, without creating a database for it. */
export async function sealedAccountOf(username: string): Promise<SealedAccount | null> {
	if (!(await hasAccountDb(username))) return null;
	const db = new AccountDb(username);
	try {
		return (await db.sealedAccount()) ?? null;
	} finally {
		db.close();
	}
}

/** Erases this device's copy of an account: its history and keys, and what arrived while locked. */
export async function deleteAccountDb(username: string): Promise<void> {
	await new AccountDb(username).delete();
	await deletePending(username);
}

/** What keeps receiving, as ciphertext, while the app is locked (locked-inbox.svelte.ts). */
export function lockedInbox(username: string, events: LockedInboxEvents): LockedInbox {
	return new LockedInbox(username, events);
}

/**
 * Opens a sealed account with the password, without needing the network; when the hub is
 * reachable and the session has lapsed, signs in again with the same derived key. With
 * `requireHub`, a hub that cannot be reached is an error.
 */
export async function unlockSealed(
	sealed: SealedAccount,
	password: string,
	requireHub = false,
): Promise<Account> {
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
		...lastTerms(),
	};
	try {
		// A session this browser already holds (another tab, or this one before its app lock) is
		// kept: one session per browser, so logging out anywhere ends it for every tab.
		const current = await api.session();
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
		const request = { username: sealed.username, authKey: toB64(keys.authKey), trustDevice: account.trusted };
		await loginWithKey(api, request, (reply) => {
			Object.assign(account, {
				expiresAt: reply.expiresAt,
				lockAfterMs: reply.lockAfterMs,
				trusted: reply.trusted,
			});
		});
	} catch (error) {
		// The hub wants the second factor: the sign-in completes with the code.
		if (error instanceof SecondFactorRequired) throw error.andThen(async () => account);
		// Offline, the app opens on local data and connects later; other refusals are for the user to see.
		if (requireHub || !(error instanceof ApiError && error.code === 'UNAVAILABLE')) throw error;
	}
	return account;
}

/** The authKey of a sealed account's password (Argon2id in a worker); the hub checks it. */
export async function authKeyOf(sealed: SealedAccount, password: string): Promise<string> {
	await ready();
	const keys = await workerDerive(password, fromB64(sealed.salt), sealed.kdf);
	return toB64(keys.authKey);
}

/**
 * The engine for an opened account, not yet started: the account is kept for this tab (and, when
 * `fresh`, its sealed copy saved on this device for unlocking offline).
 */
export async function openEngine(
	account: Account,
	fresh: boolean,
	events: EngineEvents,
): Promise<ChatEngine> {
	const db = new AccountDb(account.username);
	if (fresh) await db.saveSealedAccount(account.sealed);
	saveUnlocked(account);
	return new ChatEngine(api, account, db, events);
}

/**
 * Changes the password of an open account: the hub gets the new credentials and key backup, this
 * device keeps the new sealed copy (the history key inside it is unchanged). Returns how many other
 * sessions ended.
 */
export async function changePassword(
	account: Account,
	current: string,
	next: string,
	keepOtherSessions: boolean,
): Promise<number> {
	const changed = await changeAccountPassword(api, account, current, next, {
		derive: workerDerive,
		keepOtherSessions,
	});
	const db = new AccountDb(changed.account.username);
	try {
		await db.saveSealedAccount(changed.account.sealed);
	} finally {
		db.close();
	}
	account.sealed = changed.account.sealed;
	saveUnlocked(account);
	return changed.revokedSessions;
}

/** Deletes the account on the hub: its password (Argon2id in a worker), and a code when two-factor is on. */
export async function deleteAccount(account: Account, password: string, code: string | null): Promise<void> {
	await deleteHubAccount(api, account.username, password, {
		derive: workerDerive,
		...(code === null ? {} : { code }),
	});
}

export async function logout(): Promise<void> {
	await api.logout();
}
