import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/lib/protocol';
import { startTestHub, type TestHub } from '../helpers/hub';
import { uniqueName } from '../helpers/users';

let dir: string;
let hub: TestHub;

beforeAll(async () => {
	dir = mkdtempSync(join(tmpdir(), 'hg-tls-'));
	// A throwaway self-signed certificate for 127.0.0.1.
	const tls = spawnSync(
		'openssl',
		[
			...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'],
			...['-subj', '/CN=127.0.0.1', '-keyout', 'key.pem', '-out', 'cert.pem'],
		],
		{ cwd: dir, encoding: 'utf8', timeout: 30_000 },
	);
	if (tls.status !== 0) throw new Error(`openssl failed: ${tls.stderr}`);
	hub = await startTestHub({
		name: 'https',
		env: { TLS_CERT: join(dir, 'cert.pem'), TLS_KEY: join(dir, 'key.pem') },
	});
});

afterAll(async () => {
	await hub?.stop();
	rmSync(dir, { recursive: true, force: true });
});

/** An HTTPS request that accepts the test's self-signed certificate. */
function httpsRequest(
	path: string,
	method: string,
	body?: unknown,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
	return new Promise((resolve, reject) => {
		const req = request(
			hub.url + path,
			{
				method,
				rejectUnauthorized: false,
				headers: body === undefined ? {} : { 'content-type': 'application/json' },
			},
			(res) => {
				let text = '';
				res.setEncoding('utf8');
				res.on('data', (chunk: string) => (text += chunk));
				res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
			},
		);
		req.on('error', reject);
		req.end(body === undefined ? undefined : JSON.stringify(body));
	});
}

describe('under HTTPS', () => {
	it('serves TLS, sends HSTS, and uses a Secure __Host- session cookie', async () => {
		expect(hub.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
		const health = await httpsRequest(ROUTES.health, 'GET');
		expect(health.status).toBe(200);
		expect(health.headers['strict-transport-security']).toMatch(/max-age=\d+; includeSubDomains/);

		const prelogin = await httpsRequest(ROUTES.prelogin, 'POST', { username: uniqueName('tls') });
		expect(prelogin.status).toBe(200);
		const register = await httpsRequest(ROUTES.register, 'POST', {
			username: uniqueName('tls'),
			salt: 'A'.repeat(22),
			kdf: { alg: 'argon2id13', opslimit: 2, memlimit: 64 * 1024 * 1024 },
			authKey: 'B'.repeat(43),
			identity: { signPk: 'C'.repeat(43), boxPk: 'D'.repeat(43) },
			keyBackup: { nonce: 'E'.repeat(32), ciphertext: 'F'.repeat(64) },
		});
		expect(register.status).toBe(201);
		const cookie = String(register.headers['set-cookie']);
		expect(cookie).toMatch(/^__Host-hg_session=[A-Za-z0-9_-]{43};/);
		expect(cookie).toMatch(/; Secure/i);
		expect(cookie).toMatch(/; HttpOnly/i);
		expect(cookie).toMatch(/; SameSite=Strict/i);
		expect(cookie).toMatch(/; Path=\//);
		expect(cookie).not.toMatch(/Domain=/i);
		expect(cookie).toMatch(
			/__Host-hg_device=[A-Za-z0-9_.~-]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Strict/,
		);
	});
});
