import fastifyCookie, { type CookieSerializeOptions } from '@fastify/cookie';
import { COOKIE_NAMES } from '../../src/lib/protocol';
import type { SessionRecord } from '../store';

export interface CookiePolicy {
	/** The session cookie's name. */
	name: string;
	/** The device cookie's name (device tokens, server/services/throttle). */
	deviceName: string;
	secure: boolean;
}

/**
 * Under HTTPS the cookies are Secure and take the __Host- prefix (no Domain, Path=/, Secure:
 * a subdomain or a plain-HTTP page cannot plant or read them).
 */
export function cookiePolicy(https: boolean): CookiePolicy {
	const prefix = https ? '__Host-' : '';
	return { name: prefix + COOKIE_NAMES.session, deviceName: prefix + COOKIE_NAMES.device, secure: https };
}

/** The device cookie outlives sessions and sign-outs: it says this device signed in before. */
export function deviceCookieOptions(policy: CookiePolicy, lifetimeDays: number): CookieSerializeOptions {
	return {
		httpOnly: true,
		sameSite: 'strict',
		path: '/',
		secure: policy.secure,
		maxAge: lifetimeDays * 86_400,
	};
}

export function sessionCookieOptions(
	policy: CookiePolicy,
	session: SessionRecord,
	now: number,
): CookieSerializeOptions {
	return {
		httpOnly: true,
		sameSite: 'strict',
		path: '/',
		secure: policy.secure,
		// A trusted device keeps the cookie across browser restarts; otherwise it lives with the browser session.
		...(session.trusted ? { maxAge: Math.max(0, Math.floor((session.expiresAt - now) / 1000)) } : {}),
	};
}

export function clearCookieOptions(policy: CookiePolicy): CookieSerializeOptions {
	return { httpOnly: true, sameSite: 'strict', path: '/', secure: policy.secure };
}

/** The session token in a raw Cookie header (the socket handshake has no Fastify request). */
export function readSessionToken(cookieHeader: string | undefined, policy: CookiePolicy): string | undefined {
	if (!cookieHeader) return undefined;
	const value = fastifyCookie.parse(cookieHeader)[policy.name];
	return value || undefined;
}
