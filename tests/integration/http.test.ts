import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/lib/protocol';
import { HubApi, connectHub } from '../../src/lib/sdk';
import { TEST_METRICS_TOKEN, fetchMetrics, startTestHub, type TestHub } from '../helpers/hub';
import { newUser, uniqueName, waitForConnect, type TestClient } from '../helpers/users';

const BOOT_SCRIPT = '\n\t\t\t__sveltekit_boot = { base: "" };\n\t\t\timport("/_app/entry.js");\n\t\t';
const INDEX_HTML = `<!doctype html><html><head><link rel="manifest" href="/manifest.webmanifest"></head>
<body><div id="app"></div><script>${BOOT_SCRIPT}</script></body></html>`;

let site: string;
let hub: TestHub;
let user: TestClient;

beforeAll(async () => {
	site = mkdtempSync(join(tmpdir(), 'hg-site-'));
	mkdirSync(join(site, '_app', 'immutable'), { recursive: true });
	writeFileSync(join(site, 'index.html'), INDEX_HTML);
	writeFileSync(join(site, 'service-worker.js'), 'self.addEventListener("fetch", () => {});');
	writeFileSync(join(site, '_app', 'immutable', 'start.abc123.js'), 'export const start = 1;');
	writeFileSync(join(site, 'manifest.webmanifest'), '{"name":"Hourglass"}');
	hub = await startTestHub({ name: 'http', env: { STATIC_DIR: site } });
	user = await newUser(hub.url, uniqueName('hdr'));
});

afterAll(async () => {
	user?.close();
	await hub?.stop();
	rmSync(site, { recursive: true, force: true });
});

function expectSecurityHeaders(response: Response): void {
	const csp = response.headers.get('content-security-policy') ?? '';
	expect(csp).toContain("default-src 'self'");
	expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
	expect(csp).toContain("object-src 'none'");
	expect(csp).toContain("frame-ancestors 'none'");
	expect(csp).toContain("base-uri 'none'");
	expect(csp).not.toContain("'unsafe-eval'");
	expect(response.headers.get('x-content-type-options')).toBe('nosniff');
	expect(response.headers.get('referrer-policy')).toBe('no-referrer');
	// Plain HTTP here: no HSTS (browsers ignore it over HTTP anyway).
	expect(response.headers.get('strict-transport-security')).toBeNull();
}

describe('security headers', () => {
	it('are on API replies, which are never cached', async () => {
		for (const path of [ROUTES.health, ROUTES.time, ROUTES.session, '/api/nothing-here']) {
			const response = await fetch(hub.url + path);
			expectSecurityHeaders(response);
			expect(response.headers.get('cache-control')).toBe('no-store');
		}
		const error = await fetch(hub.url + ROUTES.login, { method: 'POST', body: 'x' });
		expectSecurityHeaders(error);
	});

	it('are on static files, with the inline boot script allowed by its hash only', async () => {
		const page = await fetch(hub.url + '/');
		expect(page.status).toBe(200);
		expect(await page.text()).toContain('__sveltekit_boot');
		expectSecurityHeaders(page);
		const hash = createHash('sha256').update(BOOT_SCRIPT).digest('base64');
		const csp = page.headers.get('content-security-policy') ?? '';
		expect(csp).toContain(`'sha256-${hash}'`);
		// Inline scripts are allowed by hash, never wholesale.
		expect(csp.split(';').find((d) => d.trim().startsWith('script-src'))).not.toContain('unsafe-inline');

		const asset = await fetch(hub.url + '/_app/immutable/start.abc123.js');
		expectSecurityHeaders(asset);
		expect(asset.headers.get('cache-control')).toContain('immutable');
		const manifest = await fetch(hub.url + '/manifest.webmanifest');
		expectSecurityHeaders(manifest);
	});

	it('follow a rebuild of the PWA while the hub runs: the new boot script is allowed, the old one no more', async () => {
		const newBoot = '\n\t\t\t__sveltekit_boot = { base: "", version: "2" };\n\t\t';
		writeFileSync(join(site, 'index.html'), INDEX_HTML.replace(BOOT_SCRIPT, newBoot));
		utimesSync(join(site, 'index.html'), new Date(), new Date(Date.now() + 5_000));
		const newHash = `'sha256-${createHash('sha256').update(newBoot).digest('base64')}'`;
		const oldHash = `'sha256-${createHash('sha256').update(BOOT_SCRIPT).digest('base64')}'`;
		try {
			let page: Response | null = null;
			// The shell is re-checked at most once a second: poll for the change, bounded.
			for (const started = Date.now(); Date.now() - started < 5_000;) {
				page = await fetch(hub.url + '/chat/someone', { headers: { accept: 'text/html' } });
				if ((page.headers.get('content-security-policy') ?? '').includes(newHash)) break;
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
			const csp = page?.headers.get('content-security-policy') ?? '';
			expect(csp).toContain(newHash);
			expect(csp).not.toContain(oldHash);
			expect(await page?.text()).toContain('version: "2"');
		} finally {
			writeFileSync(join(site, 'index.html'), INDEX_HTML);
			utimesSync(join(site, 'index.html'), new Date(), new Date(Date.now() + 10_000));
		}
	});

	it('serve the service worker uncached, so a new version is picked up at once', async () => {
		const sw = await fetch(hub.url + '/service-worker.js');
		expect(sw.status).toBe(200);
		expect(sw.headers.get('cache-control')).toBe('no-cache');
		expectSecurityHeaders(sw);
	});

	it('answer app routes with the shell (SPA fallback) but a missing asset with 404', async () => {
		const deep = await fetch(hub.url + '/chat/bob', { headers: { accept: 'text/html' } });
		expect(deep.status).toBe(200);
		expect(await deep.text()).toContain('__sveltekit_boot');
		expectSecurityHeaders(deep);
		const missing = await fetch(hub.url + '/_app/immutable/gone.js');
		expect(missing.status).toBe(404);
		expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
		expectSecurityHeaders(missing);
	});

	it('are on the Socket.IO endpoint too', async () => {
		const response = await fetch(`${hub.url}/socket.io/?EIO=4&transport=polling`);
		expect(response.headers.get('x-content-type-options')).toBe('nosniff');
		expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
	});
});

describe('origin checks', () => {
	it('refuse a state-changing request from a foreign page: BAD_ORIGIN, and serve the real origin', async () => {
		const foreign = new HubApi({ baseUrl: hub.url, origin: 'https://evil.example' });
		await expect(foreign.prelogin('someone')).rejects.toMatchObject({ code: 'BAD_ORIGIN', status: 403 });
		const crossSite = await fetch(hub.url + ROUTES.logout, {
			method: 'POST',
			headers: {
				'content-type': 'application/json',
				'sec-fetch-site': 'cross-site',
				cookie: user.api.cookieHeader() ?? '',
			},
			body: '{}',
		});
		expect(crossSite.status).toBe(403);
		expect(await crossSite.json()).toMatchObject({ error: { code: 'BAD_ORIGIN' } });
		// The cross-site logout did nothing: the session still works.
		expect((await user.api.session()).user.username).toBe(user.username);

		const same = new HubApi({ baseUrl: hub.url, origin: new URL(hub.url).origin });
		expect((await same.prelogin('someone')).kdf.alg).toBe('argon2id13');
		expect(
			(await fetch(hub.url + ROUTES.health, { headers: { origin: 'https://evil.example' } })).status,
		).toBe(200);
	});

	it('refuse the Socket.IO handshake from a foreign page before any socket exists', async () => {
		const polling = await fetch(`${hub.url}/socket.io/?EIO=4&transport=polling`, {
			headers: { origin: 'https://evil.example', cookie: user.api.cookieHeader() ?? '' },
		});
		expect(polling.status).toBe(403);
		expect(await polling.json()).toMatchObject({ message: 'BAD_ORIGIN' });

		const socket = connectHub(hub.url, {
			cookie: user.api.cookieHeader(),
			origin: 'https://evil.example',
			autoConnect: false,
		});
		socket.io.opts.reconnection = false;
		await expect(waitForConnect(socket, 5_000)).rejects.toThrow();
		socket.close();

		const own = connectHub(hub.url, { cookie: user.api.cookieHeader(), origin: new URL(hub.url).origin });
		await waitForConnect(own);
		own.close();
	});
});

describe('metrics', () => {
	it('exposes Prometheus text with sockets, stored messages and ack latency, to the operator token', async () => {
		const peer = await newUser(hub.url, uniqueName('peer'));
		await user.messenger.send(peer.username, 'count me');
		const text = await fetchMetrics(hub);
		peer.close();
		expect(text).toMatch(/^hourglass_connected_sockets \d+$/m);
		expect(text).toMatch(/^hourglass_messages_stored_total\{state="live"\} [1-9]\d*$/m);
		expect(text).toMatch(
			/^hourglass_ack_latency_seconds_count\{event="message:send",outcome="ok"\} [1-9]\d*$/m,
		);
		// Hub-wide totals only: nothing in them names who did what.
		expect(text).not.toContain(user.username);
		expect(text).not.toContain(peer.username);
	});

	it('refuses /metrics without the token, or with another one: 401 UNAUTHENTICATED', async () => {
		for (const authorization of [
			undefined,
			'Bearer not-the-token',
			`Basic ${TEST_METRICS_TOKEN}`,
			'Bearer',
		]) {
			const response = await fetch(hub.url + ROUTES.metrics, {
				headers: authorization === undefined ? {} : { authorization },
			});
			expect(response.status).toBe(401);
			expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
			expect(await response.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
		}
	});

	it('serves no metrics on the app port without a token, and serves them on METRICS_PORT', async () => {
		const own = await startTestHub({
			name: 'metrics_port',
			env: { METRICS_TOKEN: '', METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' },
		});
		try {
			const app = await fetch(own.url + ROUTES.metrics);
			expect(app.status).toBe(404);
			expect(await app.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
			expect(own.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
			const scraped = await fetch(own.metricsUrl ?? '');
			expect(scraped.status).toBe(200);
			expect(await scraped.text()).toMatch(/^hourglass_connected_sockets \d+$/m);
			// The metrics listener answers nothing else.
			const other = await fetch(new URL(ROUTES.health, own.metricsUrl ?? '').href);
			expect(other.status).toBe(404);
		} finally {
			await own.stop();
		}
	});
});

describe('health', () => {
	it('answers 200 with the database up, and 503 once the database is gone', async () => {
		const own = await startTestHub({ name: 'health' });
		try {
			const up = await fetch(own.url + ROUTES.health);
			expect(up.status).toBe(200);
			expect(await up.json()).toMatchObject({ status: 'ok', db: 'up' });

			await own.hub.context.store.close();
			const down = await fetch(own.url + ROUTES.health);
			expect(down.status).toBe(503);
			expect(await down.json()).toMatchObject({ status: 'degraded', db: 'down' });
			// Other routes say UNAVAILABLE rather than crash, and carry no internals.
			const prelogin = await fetch(own.url + ROUTES.prelogin, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ username: 'someone' }),
			});
			expect(prelogin.status).toBe(503);
			expect(await prelogin.json()).toEqual({
				error: { code: 'UNAVAILABLE', message: 'The hub cannot reach its database; try again shortly.' },
			});
			expect((await fetch(own.url + ROUTES.time)).status).toBe(200);
		} finally {
			await own.stop();
		}
	});
});
