import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sendError } from './errors';

const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script\s*>/gi;

/** CSP source expressions ('sha256-…') for every inline <script> of a page, in order. */
export function inlineScriptHashes(html: string): string[] {
	const hashes: string[] = [];
	for (const match of html.matchAll(INLINE_SCRIPT)) {
		hashes.push(`'sha256-${createHash('sha256').update(match[1], 'utf8').digest('base64')}'`);
	}
	return [...new Set(hashes)];
}

/**
 * Scripts from this origin only, plus the built page's own inline bootstrap by hash;
 * 'wasm-unsafe-eval' lets libsodium compile its WebAssembly. Never 'unsafe-eval'.
 */
export function contentSecurityPolicy(scriptHashes: string[]): string {
	return [
		"default-src 'self'",
		["script-src 'self' 'wasm-unsafe-eval'", ...scriptHashes].join(' '),
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data: blob:",
		"connect-src 'self'",
		"worker-src 'self'",
		"manifest-src 'self'",
		"object-src 'none'",
		"frame-ancestors 'none'",
		"base-uri 'none'",
		"form-action 'self'",
	].join('; ');
}

/** The headers every response carries, API and static alike. */
export function securityHeaders(options: { csp: string; https: boolean }): Record<string, string> {
	return {
		'content-security-policy': options.csp,
		'x-content-type-options': 'nosniff',
		'referrer-policy': 'no-referrer',
		'x-frame-options': 'DENY',
		'cross-origin-opener-policy': 'same-origin',
		'cross-origin-resource-policy': 'same-origin',
		...(options.https ? { 'strict-transport-security': 'max-age=63072000; includeSubDomains' } : {}),
	};
}

/** Answers nothing from the API to a cache: replies may be personal. */
export function isUncachedPath(url: string): boolean {
	return url.startsWith('/api/') || url === '/api' || url.startsWith('/metrics');
}

export function installSecurityHeaders(app: FastifyInstance, headers: () => Record<string, string>): void {
	app.addHook('onSend', async (request, reply, payload) => {
		reply.headers(headers());
		if (isUncachedPath(request.url)) reply.header('cache-control', 'no-store');
		return payload;
	});
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Whether a request may change state: a browser page from another origin may not (CSRF), even
 * with SameSite cookies as the first line. Clients outside a browser send no Origin and pass.
 */
export function isForeignRequest(
	method: string,
	headers: { origin?: string; 'sec-fetch-site'?: string | string[] },
	allowedOrigin: string,
): boolean {
	if (!STATE_CHANGING.has(method)) return false;
	if (headers['sec-fetch-site'] === 'cross-site') return true;
	return headers.origin !== undefined && headers.origin !== allowedOrigin;
}

export function installOriginGuard(app: FastifyInstance, allowedOrigin: () => string): void {
	app.addHook('onRequest', async (request, reply) => {
		if (isForeignRequest(request.method, request.headers, allowedOrigin())) {
			return sendError(reply, 'BAD_ORIGIN', 'This request comes from another site.');
		}
	});
}
