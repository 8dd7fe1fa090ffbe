import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from './cookies';

describe('CookieJar.remember', () => {
	const now = Date.UTC(2030, 0, 1);

	it('keeps, replaces and deletes cookies as Set-Cookie says', () => {
		const jar = new CookieJar({ old: '1' });
		jar.remember(['hg_session=abc; Path=/; HttpOnly; SameSite=Strict', 'other=x'], now);
		expect(jar.toJSON()).toEqual({ old: '1', hg_session: 'abc', other: 'x' });
		jar.remember(['hg_session=def; Path=/'], now);
		expect(jar.header()).toBe('old=1; hg_session=def; other=x');
		jar.remember(
			['hg_session=; Path=/', 'other=gone; Max-Age=0', 'old=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT'],
			now,
		);
		expect(jar.header()).toBeUndefined();
	});

	it('keeps a cookie whose expiry is in the future', () => {
		const jar = new CookieJar();
		jar.remember(['s=1; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Max-Age=900'], now);
		expect(jar.toJSON()).toEqual({ s: '1' });
	});
});

describe('CookieJar and the device token', () => {
	it('forgets the session but keeps the device token, as a browser does after signing out', () => {
		const jar = new CookieJar({ hg_session: 's', hg_device: 'd', '__Host-hg_session': 'S' });
		expect(jar.hasSession()).toBe(true);
		jar.forgetSession();
		expect(jar.hasSession()).toBe(false);
		expect(jar.toJSON()).toEqual({ hg_device: 'd' });
	});

	it('adopts only the device token of cookies kept by an earlier sign-in', () => {
		const jar = new CookieJar();
		jar.adoptDeviceToken({ hg_session: 'old', '__Host-hg_device': 'D', other: 'x' });
		expect(jar.toJSON()).toEqual({ '__Host-hg_device': 'D' });
	});
});

describe('CookieJar.fetch', () => {
	let server: Server;
	let base: string;
	const seen: (string | undefined)[] = [];

	beforeAll(async () => {
		server = createServer((request, response) => {
			seen.push(request.headers.cookie);
			if (request.url === '/login') response.setHeader('set-cookie', 'sid=s3cret; HttpOnly');
			if (request.url === '/logout') response.setHeader('set-cookie', 'sid=; Max-Age=0');
			response.end('{}');
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});

	afterAll(async () => {
		await new Promise((resolve) => server.close(resolve));
	});

	it('sends back what the server set, until the server clears it', async () => {
		const jar = new CookieJar();
		const fetch = jar.fetch();
		await fetch(`${base}/login`, { method: 'POST' });
		await fetch(`${base}/me`, { headers: { accept: 'application/json' } });
		await fetch(`${base}/logout`, { method: 'POST' });
		await fetch(`${base}/me`);
		expect(seen).toEqual([undefined, 'sid=s3cret', 'sid=s3cret', undefined]);
		expect(jar.toJSON()).toEqual({});
	});
});
