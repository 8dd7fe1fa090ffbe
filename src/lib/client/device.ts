/**
 * What this browser remembers outside an account's database, read without libsodium so the app
 * knows what to show (sign-in, unlock, or the app) before loading any crypto.
 *
 * The unlocked account lives in this tab's sessionStorage only (sealed and opened by vault.ts): a
 * reload in the same tab opens the app at once (even offline), while a new tab or a browser
 * restart asks for the password again.
 */
export const UNLOCKED_KEY = 'hourglass.unlocked';
/** The last account used on this device, so the app can offer to unlock it. Public data only. */
const LAST_USER_KEY = 'hourglass.lastUser';
/** This device's session terms as the hub last gave them, for an unlock without the network. */
const TERMS_KEY = 'hourglass.sessionTerms';
/** Set in a tab that locked itself after idle: after a reload it keeps receiving while locked. */
const APP_LOCKED_KEY = 'hourglass.appLocked';

/** The app lock's default before the hub has said otherwise (the hub's own default). */
const DEFAULT_LOCK_AFTER_MS = 15 * 60_000;

/** How the hub treats this device's session: when the app locks itself, whether the device is trusted. */
export interface SessionTerms {
	lockAfterMs: number;
	trusted: boolean;
}

/** Whether this tab holds an unlocked account from before a reload. */
export function hasUnlocked(): boolean {
	return sessionStorage.getItem(UNLOCKED_KEY) !== null;
}

export function clearUnlocked(): void {
	sessionStorage.removeItem(UNLOCKED_KEY);
}

export function lastUser(): string | null {
	return localStorage.getItem(LAST_USER_KEY);
}

export function rememberLastUser(username: string): void {
	localStorage.setItem(LAST_USER_KEY, username);
}

export function forgetLastUser(): void {
	localStorage.removeItem(LAST_USER_KEY);
	localStorage.removeItem(TERMS_KEY);
}

export function saveTerms(terms: SessionTerms): void {
	localStorage.setItem(TERMS_KEY, JSON.stringify({ lockAfterMs: terms.lockAfterMs, trusted: terms.trusted }));
}

/** The terms the hub last gave this device, or the defaults (lock after 15 minutes, not trusted). */
export function lastTerms(): SessionTerms {
	try {
		const stored = JSON.parse(localStorage.getItem(TERMS_KEY) ?? 'null') as Partial<SessionTerms> | null;
		const lockAfterMs = stored?.lockAfterMs;
		return {
			lockAfterMs: typeof lockAfterMs === 'number' && lockAfterMs > 0 ? lockAfterMs : DEFAULT_LOCK_AFTER_MS,
			trusted: stored?.trusted === true,
		};
	} catch {
		return { lockAfterMs: DEFAULT_LOCK_AFTER_MS, trusted: false };
	}
}

/** This tab locked itself while signed in as `username` (and keeps receiving). */
export function markAppLocked(username: string): void {
	sessionStorage.setItem(APP_LOCKED_KEY, username);
}

export function appLockedUser(): string | null {
	return sessionStorage.getItem(APP_LOCKED_KEY);
}

export function clearAppLocked(): void {
	sessionStorage.removeItem(APP_LOCKED_KEY);
}
