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
}
