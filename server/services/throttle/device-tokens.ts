import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Tokens one device cookie holds at most: one per account signed in from that device, newest first. */
export const DEVICE_TOKENS_MAX = 5;

const TOKEN = /^([A-Za-z0-9_-]{16})\.([0-9a-z]{1,11})\.([A-Za-z0-9_-]{22})$/;

/**
 * Device tokens (OWASP's "device cookies"): proof that this device signed in to an account
 * before, given after each successful sign-in. A token is `id.issuedAt.mac`, the MAC an HMAC of
 * the id, the time and the account's name under a secret all hubs share: it names no account
 * (the cookie says nothing of who signed in there) and only the hubs can make one. The id is
 * random, so failures can be counted per token.
 */
export class DeviceTokens {
	constructor(
		private readonly secret: Buffer,
		private readonly lifetimeMs: number,
	) {}

	/** The id of the token in `cookie` that was given for `username` and has not expired, else null. */
	verify(cookie: string | undefined, username: string, now: number): string | null {
		for (const token of split(cookie)) {
			const match = TOKEN.exec(token);
			if (!match) continue;
			const [, id, issued, mac] = match;
			const issuedAt = Number.parseInt(issued, 36);
			if (issuedAt > now || now - issuedAt >= this.lifetimeMs) continue;
			const expected = this.#mac(id, issuedAt, username);
			const given = Buffer.from(mac, 'base64url');
			if (given.length === expected.length && timingSafeEqual(given, expected)) return id;
		}
		return null;
	}

	/**
	 * The cookie after a successful sign-in to `username`: a new token for it first, then the
	 * device's tokens for other accounts that are still valid, DEVICE_TOKENS_MAX at most.
	 */
	issue(cookie: string | undefined, username: string, now: number): string {
		const id = randomBytes(12).toString('base64url');
		const token = `${id}.${now.toString(36)}.${this.#mac(id, now, username).toString('base64url')}`;
		const others = split(cookie).filter((old) => {
			const match = TOKEN.exec(old);
			if (!match) return false;
			const issuedAt = Number.parseInt(match[2], 36);
			return issuedAt <= now && now - issuedAt < this.lifetimeMs && this.verify(old, username, now) === null;
		});
		return [token, ...others].slice(0, DEVICE_TOKENS_MAX).join('~');
	}

	#mac(id: string, issuedAt: number, username: string): Buffer {
		return createHmac('sha256', this.secret)
			.update(`device-token:${id}:${issuedAt}:${username}`)
			.digest()
			.subarray(0, 16);
	}
}

function split(cookie: string | undefined): string[] {
	if (!cookie) return [];
	return cookie.split('~').slice(0, DEVICE_TOKENS_MAX * 2);
}
