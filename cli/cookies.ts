import { COOKIE_NAMES, isCookieNamed } from '../src/lib/protocol';

/**
 * The hub's cookies outside a browser: the session, and the device token that keeps this device
 * signing in while strangers are locked out of the account. Unlike `HubApi`'s in-memory
 * `keepCookies`, this jar starts from cookies saved by an earlier command, so one CLI session
 * serves several commands.
 */
export class CookieJar {
	#cookies: Map<string, string>;

	constructor(initial: Record<string, string> = {}) {
		this.#cookies = new Map(Object.entries(initial));
	}

	toJSON(): Record<string, string> {
		return Object.fromEntries(this.#cookies);
	}

	/** The Cookie header to send, or undefined when the jar is empty. */
	header(): string | undefined {
		if (this.#cookies.size === 0) return undefined;
		return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
	}

	/** Whether the jar holds a session cookie (it may have expired on the hub). */
	hasSession(): boolean {
		return [...this.#cookies.keys()].some((name) => isCookieNamed(name, COOKIE_NAMES.session));
	}

	/** Drops the session cookie and keeps the device token, as a browser does after signing out. */
	forgetSession(): void {
		for (const name of [...this.#cookies.keys()]) {
			if (isCookieNamed(name, COOKIE_NAMES.session)) this.#cookies.delete(name);
		}
	}

	/** Takes the device token from cookies kept earlier (another sign-in of the same account here). */
	adoptDeviceToken(kept: Record<string, string>): void {
		for (const [name, value] of Object.entries(kept)) {
			if (isCookieNamed(name, COOKIE_NAMES.device)) this.#cookies.set(name, value);
		}
	}

	/** Applies the Set-Cookie lines of a response: sets, replaces, or deletes expired cookies. */
	remember(setCookieLines: string[], now: number = Date.now()): void {
		for (const line of setCookieLines) {
			const [pair, ...attributes] = line.split(';');
			const eq = pair.indexOf('=');
			if (eq <= 0) continue;
			const name = pair.slice(0, eq).trim();
			const value = pair.slice(eq + 1).trim();
			if (value === '' || attributes.some((a) => isExpiry(a, now))) this.#cookies.delete(name);
			else this.#cookies.set(name, value);
		}
	}

	/** A fetch that sends the jar's cookies and keeps the ones the hub sets. */
	fetch(inner: typeof fetch = globalThis.fetch): typeof fetch {
		return async (input, init) => {
			const headers = new Headers(init?.headers);
			const cookie = this.header();
			if (cookie && !headers.has('cookie')) headers.set('cookie', cookie);
			const response = await inner(input, { ...init, headers });
			this.remember(response.headers.getSetCookie());
			return response;
		};
	}
}

function isExpiry(attribute: string, now: number): boolean {
	const [key, ...rest] = attribute.split('=');
	const name = key.trim().toLowerCase();
	const value = rest.join('=').trim();
	if (name === 'max-age') return Number(value) <= 0;
	if (name === 'expires') {
		const at = Date.parse(value);
		return !Number.isNaN(at) && at <= now;
	}
	return false;
}
