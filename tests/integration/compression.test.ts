import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub';

const ASSET = '/_app/immutable/chunks/a1b2c3.js';
// Large and repetitive enough that a compressed copy is much smaller, as a real chunk's is.
const ASSET_BODY = Buffer.from('export const words = ["hourglass", "sealed", "unlock"];\n'.repeat(400));
const SHELL = `<!doctype html><html><head><title>Hourglass</title></head><body><div id="app"></div>
<script>${'\n\t\t\timport("/_app/immutable/entry/start.js").then((app) => app.start());\n\t\t'}</script></body></html>`;

interface RawReply {
	status: number;
	headers: Record<string, string | string[] | undefined>;
	body: Buffer;
}

/** A GET that sends only the headers given and keeps the body as sent (fetch would decompress it). */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawReply> {
	return new Promise((resolve, reject) => {
		const req = request(url, { headers }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (chunk: Buffer) => chunks.push(chunk));
			res.on('end', () =>
				resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
			);
			res.on('error', reject);
		});
		req.on('error', reject);
		req.end();
	});
}

function varyTokens(reply: RawReply): string[] {
	return String(reply.headers.vary ?? '')
		.split(',')
		.map((token) => token.trim().toLowerCase());
}

let site: string;
let hub: TestHub;
let uncompressed: TestHub;

beforeAll(async () => {
	site = mkdtempSync(join(tmpdir(), 'hg-compressed-'));
	mkdirSync(join(site, '_app', 'immutable', 'chunks'), { recursive: true });
	writeFileSync(join(site, 'index.html'), SHELL);
	// What `npm run build` leaves: the file, and a .br and a .gz copy beside it.
	writeFileSync(join(site, ASSET), ASSET_BODY);
	writeFileSync(join(site, `${ASSET}.br`), brotliCompressSync(ASSET_BODY));
	writeFileSync(join(site, `${ASSET}.gz`), gzipSync(ASSET_BODY));
	// A file the build does not compress (an image): sent as it is whatever the client accepts.
	writeFileSync(join(site, 'icon-192.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]));
	hub = await startTestHub({ name: 'compression', env: { STATIC_DIR: site } });
	uncompressed = await startTestHub({
		name: 'compression_off',
		env: { STATIC_DIR: site, STATIC_COMPRESSION: 'false' },
	});
});

afterAll(async () => {
	await hub?.stop();
	await uncompressed?.stop();
	rmSync(site, { recursive: true, force: true });
});

describe('static files, compressed', () => {
	it('sends the brotli copy to a browser that accepts br, which decompresses to the very file', async () => {
		const reply = await rawGet(hub.url + ASSET, { 'accept-encoding': 'gzip, deflate, br' });
		expect(reply.status).toBe(200);
		expect(reply.headers['content-encoding']).toBe('br');
		expect(reply.headers['content-type']).toMatch(/javascript/);
		expect(varyTokens(reply)).toContain('accept-encoding');
		// Cache rules are those of the file itself, whatever the encoding.
		expect(reply.headers['cache-control']).toBe('public, max-age=31536000, immutable');
		expect(reply.body.length).toBeLessThan(ASSET_BODY.length / 10);
		expect(brotliDecompressSync(reply.body).equals(ASSET_BODY)).toBe(true);
	});

	it('sends the gzip copy to a browser that accepts only gzip', async () => {
		const reply = await rawGet(hub.url + ASSET, { 'accept-encoding': 'gzip' });
		expect(reply.headers['content-encoding']).toBe('gzip');
		expect(varyTokens(reply)).toContain('accept-encoding');
		expect(gunzipSync(reply.body).equals(ASSET_BODY)).toBe(true);
	});

	it('sends the file as it is without Accept-Encoding, still varying on it for caches', async () => {
		const reply = await rawGet(hub.url + ASSET);
		expect(reply.status).toBe(200);
		expect(reply.headers['content-encoding']).toBeUndefined();
		expect(varyTokens(reply)).toContain('accept-encoding');
		expect(reply.body.equals(ASSET_BODY)).toBe(true);

		const image = await rawGet(hub.url + '/icon-192.png', { 'accept-encoding': 'br' });
		expect(image.status).toBe(200);
		expect(image.headers['content-encoding']).toBeUndefined();
		expect(image.body.length).toBe(8);
	});

	it('compresses the shell too, for the root and for every app route, keeping its CSP and cache rule', async () => {
		for (const path of ['/', '/login', '/chat/bob']) {
			const reply = await rawGet(hub.url + path, { accept: 'text/html', 'accept-encoding': 'br, gzip' });
			expect(reply.status).toBe(200);
			expect(reply.headers['content-encoding']).toBe('br');
			expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
			expect(reply.headers['cache-control']).toBe('no-cache');
			expect(varyTokens(reply)).toContain('accept-encoding');
			expect(reply.headers['content-security-policy']).toMatch(
				/script-src 'self' 'wasm-unsafe-eval' 'sha256-/,
			);
			expect(brotliDecompressSync(reply.body).toString('utf8')).toBe(SHELL);
		}
		const gzip = await rawGet(hub.url + '/login', { accept: 'text/html', 'accept-encoding': 'gzip' });
		expect(gzip.headers['content-encoding']).toBe('gzip');
		expect(gunzipSync(gzip.body).toString('utf8')).toBe(SHELL);

		const plain = await rawGet(hub.url + '/login', { accept: 'text/html' });
		expect(plain.headers['content-encoding']).toBeUndefined();
		expect(plain.body.toString('utf8')).toBe(SHELL);
	});

	it('sends everything as it is when the operator turns compression off (STATIC_COMPRESSION=false)', async () => {
		const asset = await rawGet(uncompressed.url + ASSET, { 'accept-encoding': 'br, gzip' });
		expect(asset.headers['content-encoding']).toBeUndefined();
		expect(asset.body.equals(ASSET_BODY)).toBe(true);
		const shell = await rawGet(uncompressed.url + '/login', { accept: 'text/html', 'accept-encoding': 'br' });
		expect(shell.headers['content-encoding']).toBeUndefined();
		expect(shell.body.toString('utf8')).toBe(SHELL);
	});
});
