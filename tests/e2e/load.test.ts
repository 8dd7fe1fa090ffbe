import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page, Response } from 'playwright-core';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	PHONE,
	launchChromium,
	openPerson,
	register,
	serviceWorkerReady,
	uniqueName,
	type Person,
} from './support';

/** Strings found in one library's code only, to tell which libraries a page has loaded. */
const LIBSODIUM = 'sodium_init';
/** In libsodium's full build only (Argon2id), which the page leaves to the KDF worker. */
const ARGON2 = '_crypto_pwhash_argon2id';
const ZXCVBN = 'zxcvbn';
const ZOD = 'ZodError';
/** A class of the conversation view's message rows, in that route's code only. */
const CONVERSATION_VIEW = 'sealed-bubble';

let hub: TestHub;
let browser: Browser;
const people: Person[] = [];

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_load' });
	browser = await launchChromium();
});

afterAll(async () => {
	for (const person of people) await person.context.close();
	await browser?.close();
	await hub?.stop();
});

/** A first visit: a browser context of its own, so nothing is cached and no service worker runs yet. */
async function firstVisit(): Promise<Person> {
	const person = await openPerson(browser, hub.url, uniqueName('load'), PHONE);
	people.push(person);
	return person;
}

/** The JavaScript the page receives from now on, decompressed: `received()` waits for every body. */
function recordScripts(page: Page): { received: () => Promise<string[]> } {
	const bodies: Promise<string>[] = [];
	page.on('response', (response) => {
		if (isScript(response)) bodies.push(response.text());
	});
	return { received: () => Promise.all(bodies) };
}

function isScript(response: Response): boolean {
	return new URL(response.url()).pathname.endsWith('.js');
}

/** Resolves with the first script the page receives that contains `marker`. */
function scriptWith(page: Page, marker: string): Promise<Response> {
	return page.waitForResponse(
		async (response) => isScript(response) && (await response.text()).includes(marker),
		{ timeout: 15_000 },
	);
}

function loaded(scripts: string[], marker: string): boolean {
	return scripts.some((text) => text.includes(marker));
}

describe('the first page load', () => {
	it('paints the sign-in form without libsodium, zod or the password checker, and loads libsodium once someone types', async () => {
		const { page } = await firstVisit();
		const recorded = recordScripts(page);
		await page.goto('/login');
		await page.getByLabel('Username', { exact: true }).waitFor();
		await page.waitForLoadState('networkidle');
		const first = await recorded.received();
		expect(first.length).toBeGreaterThan(0);
		expect(loaded(first, LIBSODIUM)).toBe(false);
		expect(loaded(first, ZOD)).toBe(false);
		expect(loaded(first, ZXCVBN)).toBe(false);

		const libsodium = scriptWith(page, LIBSODIUM);
		await page.getByLabel('Username', { exact: true }).pressSequentially('al');
		await libsodium;
		expect(loaded(await recorded.received(), ZXCVBN)).toBe(false);
	});

	it('loads the password checker at the first keystroke of a new password, not with the sign-up form', async () => {
		const { page } = await firstVisit();
		const recorded = recordScripts(page);
		await page.goto('/login');
		await page.getByRole('button', { name: 'Create account' }).first().click();
		await page.getByLabel('Password', { exact: true }).waitFor();
		await page.waitForLoadState('networkidle');
		expect(loaded(await recorded.received(), ZXCVBN)).toBe(false);

		const checker = scriptWith(page, ZXCVBN);
		await page.getByLabel('Password', { exact: true }).pressSequentially('a');
		await checker;
		await page.getByText(/Very weak|Weak/).waitFor();
	});

	it('loads the conversation view once the signed-in app is idle, before any conversation is opened', async () => {
		const person = await firstVisit();
		const { page } = person;
		await page.goto('/');
		const before = recordScripts(page);
		await page.getByLabel('Username', { exact: true }).waitFor();
		expect(loaded(await before.received(), CONVERSATION_VIEW)).toBe(false);

		const conversationView = scriptWith(page, CONVERSATION_VIEW);
		await register(person);
		const response = await conversationView;
		expect(new URL(response.url()).pathname).toMatch(/^\/_app\/immutable\/nodes\//);
		// Loaded ahead: the app is still on the conversation list.
		expect(new URL(page.url()).pathname).toBe('/chat');
		expect(person.errors).toEqual([]);
	});

	it('signs up and opens the app under the strict CSP without a single violation: zod never probes eval', async () => {
		const person = await firstVisit();
		await person.context.addInitScript(() => {
			const seen: string[] = [];
			Object.assign(window, { cspViolations: seen });
			document.addEventListener('securitypolicyviolation', (event) =>
				seen.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}`),
			);
		});
		await register(person);
		// The app has parsed the hub's replies with the protocol's schemas by now (session, sync).
		const violations = await person.page.evaluate(
			() => (window as unknown as { cspViolations: string[] }).cspViolations,
		);
		expect(violations).toEqual([]);
		expect(person.errors).toEqual([]);
	});

	it('precaches what opening and unlocking need offline (libsodium, the kdf worker), not the password checker, the QR decoder, the page-unused full libsodium nor the compressed copies', async () => {
		const person = await firstVisit();
		await person.page.goto('/login');
		await person.page.getByLabel('Username', { exact: true }).waitFor();
		await serviceWorkerReady(person);
		const cached = await person.page.evaluate(
			async ({ libsodium, zxcvbn, argon2 }) => {
				const name = (await caches.keys()).find((key) => key.startsWith('hourglass-'));
				if (!name) throw new Error('no hourglass cache');
				const cache = await caches.open(name);
				const entries = [];
				for (const request of await cache.keys()) {
					const text = (await (await cache.match(request))?.text()) ?? '';
					entries.push({
						path: new URL(request.url).pathname,
						libsodium: text.includes(libsodium),
						zxcvbn: text.includes(zxcvbn),
						argon2: text.includes(argon2),
					});
				}
				return entries;
			},
			{ libsodium: LIBSODIUM, zxcvbn: ZXCVBN, argon2: ARGON2 },
		);
		const paths = cached.map((entry) => entry.path);
		expect(paths).toContain('/index.html');
		expect(paths.some((path) => path.startsWith('/_app/immutable/workers/kdf.worker'))).toBe(true);
		expect(cached.some((entry) => entry.libsodium && entry.path.includes('/chunks/'))).toBe(true);
		expect(cached.filter((entry) => entry.zxcvbn)).toEqual([]);
		// Argon2id is in the KDF worker's bundle alone: the page's libsodium is the standard build.
		expect(cached.filter((entry) => entry.argon2).map((entry) => entry.path.split('/')[3])).toEqual([
			'workers',
		]);
		// The QR decoder's WebAssembly (~1 MB) comes on the first scan, not with the install.
		expect(paths.filter((path) => path.includes('zxing'))).toEqual([]);
		expect(paths.filter((path) => /\.(br|gz)$/.test(path))).toEqual([]);
	});
});
