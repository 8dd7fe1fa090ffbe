import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, inlineScriptHashes, isForeignRequest, securityHeaders } from './security';
import { cacheControlFor, shellEncoding } from './static';

describe('content security policy', () => {
	it('hashes inline scripts only, exactly as the browser will', () => {
		const inline = '\n\t\t\timport("./_app/start.js").then((app) => app.start());\n\t\t';
		const html = `<html><head><script type="module" src="/_app/x.js"></script></head>
			<body><script>${inline}</script><script type="module">a()</script></body></html>`;
		const expected = `'sha256-${createHash('sha256').update(inline).digest('base64')}'`;
		const hashes = inlineScriptHashes(html);
		expect(hashes).toHaveLength(2);
		expect(hashes[0]).toBe(expected);
	});

	it('never allows unsafe-eval and locks down objects, framing and base', () => {
		const csp = contentSecurityPolicy(["'sha256-abc'"]);
		expect(csp).not.toContain("'unsafe-eval'");
		expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval' 'sha256-abc'");
		for (const directive of [
			"object-src 'none'",
			"frame-ancestors 'none'",
			"base-uri 'none'",
			"default-src 'self'",
		]) {
			expect(csp).toContain(directive);
		}
	});

	it('adds HSTS only under HTTPS', () => {
		expect(securityHeaders({ csp: 'x', https: false })).not.toHaveProperty('strict-transport-security');
		expect(securityHeaders({ csp: 'x', https: true })['strict-transport-security']).toMatch(/max-age=\d+/);
	});
});

describe('origin guard', () => {
	const self = 'https://chat.example.org';
	it('refuses state changes from another origin or a cross-site fetch', () => {
		expect(isForeignRequest('POST', { origin: 'https://evil.example' }, self)).toBe(true);
		expect(isForeignRequest('DELETE', { origin: 'null' }, self)).toBe(true);
		expect(isForeignRequest('POST', { 'sec-fetch-site': 'cross-site' }, self)).toBe(true);
	});
	it('lets same-origin pages, clients without Origin and reads through', () => {
		expect(isForeignRequest('POST', { origin: self, 'sec-fetch-site': 'same-origin' }, self)).toBe(false);
		expect(isForeignRequest('POST', {}, self)).toBe(false);
		expect(isForeignRequest('GET', { origin: 'https://evil.example' }, self)).toBe(false);
	});
});

describe('static cache rules', () => {
	it('caches hashed assets forever and revalidates the shell and the service worker', () => {
		expect(cacheControlFor('/srv/build/_app/immutable/chunks/a1b2.js')).toContain('immutable');
		expect(cacheControlFor('/srv/build/service-worker.js')).toBe('no-cache');
		expect(cacheControlFor('/srv/build/index.html')).toBe('no-cache');
	});
});

describe('shell encoding', () => {
	it('prefers brotli, then gzip, and sends the page as it is to a client that accepts neither', () => {
		expect(shellEncoding('gzip, deflate, br, zstd')).toBe('br');
		expect(shellEncoding('gzip;q=1, br;q=0.5')).toBe('gzip');
		expect(shellEncoding('GZIP')).toBe('gzip');
		expect(shellEncoding('deflate')).toBeNull();
		expect(shellEncoding('br;q=0')).toBeNull();
		expect(shellEncoding(undefined)).toBeNull();
		expect(shellEncoding('')).toBeNull();
	});
});
