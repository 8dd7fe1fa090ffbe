import fastifyCookie, { type CookieSerializeOptions } from '@fastify/cookie';
import type { SessionRecord } from '../store';

export interface CookiePolicy {
	name: string;
	secure: boolean;
}

/**
 * Under HTTPS the cookie is Secure and takes the __Host- prefix (no Domain, Path=/, Secure:
 * a subdomain or a plain-HTTP page cannot plant or read it).
 */
export function cookiePolicy(https: boolean): CookiePolicy {
	return https ? { name: '__Host-hg_session', secure: true } : { name: 'hg_session', secure: false };
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
