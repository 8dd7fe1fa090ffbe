import { deserializeIdentity, fromB64, ready, serializeIdentity, toB64 } from '../crypto';
import type { Account, SealedAccount } from '../sdk';

/**
 * The unlocked account lives in this tab's sessionStorage only: a reload in the same tab opens the
 * app at once (even offline), while a new tab or a browser restart asks for the password again.
 */
const SESSION_KEY = 'hourglass.unlocked';
/** The last account used on this device, so the app can offer to unlock it. Public data only. */
const LAST_USER_KEY = 'hourglass.lastUser';

interface StoredUnlocked {
	v: 1;
	identity: string;
	localKey: string;
	sealed: SealedAccount;
	expiresAt: number;
}

export function saveUnlocked(account: Account): void {
	const stored: StoredUnlocked = {
		v: 1,
		identity: serializeIdentity(account.identity),
		localKey: toB64(account.localKey),
		sealed: account.sealed,
		expiresAt: account.expiresAt,
	};
	sessionStorage.setItem(SESSION_KEY, JSON.stringify(stored));
	localStorage.setItem(LAST_USER_KEY, account.username);
}

/** The account this tab unlocked before a reload, or null. A damaged entry is dropped. */
export async function loadUnlocked(): Promise<Account | null> {
	const text = sessionStorage.getItem(SESSION_KEY);
	if (!text) return null;
	try {
		await ready();
		const stored = JSON.parse(text) as StoredUnlocked;
		if (stored.v !== 1) throw new Error('loadUnlocked: unknown version');
		const localKey = fromB64(stored.localKey);
		if (localKey.length !== 32) throw new Error('loadUnlocked: bad local key');
		return {
			username: stored.sealed.username,
			user: stored.sealed.user,
			identity: deserializeIdentity(stored.identity),
			localKey,
			sealed: stored.sealed,
			expiresAt: stored.expiresAt,
			serverNow: Date.now(),
		};
	} catch {
		sessionStorage.removeItem(SESSION_KEY);
		return null;
	}
}

export function clearUnlocked(): void {
	sessionStorage.removeItem(SESSION_KEY);
}

export function lastUser(): string | null {
	return localStorage.getItem(LAST_USER_KEY);
}

export function forgetLastUser(): void {
	localStorage.removeItem(LAST_USER_KEY);
}
