import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestHub, type TestHub } from '../helpers/hub';
import { newUser, uniqueName as sdkName, type TestClient } from '../helpers/users';
import {
	DESKTOP,
	PHONE,
	addContact,
	axe,
	launchChromium,
	messageLog,
	openPerson,
	register,
	send,
	toLocalInput,
	uniqueName,
	type Person,
} from './support';

const LAYOUTS = [
	{ name: '360', viewport: PHONE },
	{ name: '1280', viewport: DESKTOP },
] as const;
const SCHEMES = ['light', 'dark'] as const;

let hub: TestHub;
let browser: Browser;
let user: Person;
let visitor: Person;
let bob: TestClient;
let eve: TestClient;

/** Runs axe over the whole page at every width and in both colour schemes; the violations, described. */
async function audit(page: Page, screen: string): Promise<string[]> {
	const found: string[] = [];
	for (const layout of LAYOUTS) {
		for (const scheme of SCHEMES) {
			await page.setViewportSize(layout.viewport);
			await page.emulateMedia({ colorScheme: scheme });
			// Two frames: the new layout and colours are painted before axe reads them.
			await page.evaluate(
				() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))),
			);
			const violations = await axe(page);
			for (const v of violations) {
				const where = v.nodes.map((n) => `      ${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join('\n');
				found.push(`${screen} @${layout.name} ${scheme}: ${v.id} (${v.impact}) ${v.help}\n${where}`);
			}
		}
	}
	return found;
}

async function open(page: Page, path: string, heading: string | RegExp): Promise<void> {
	await page.goto(path);
	await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 30_000 });
	await page.locator('[data-connection="online"]').waitFor({ timeout: 15_000 });
}

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_a11y' });
	browser = await launchChromium();
	bob = await newUser(hub.url, sdkName('bob'));
	eve = await newUser(hub.url, sdkName('eve'));
	user = await openPerson(browser, hub.url, uniqueName('ally'), DESKTOP, { bypassCSP: true });
	visitor = await openPerson(browser, hub.url, uniqueName('visitor'), DESKTOP, { bypassCSP: true });
	await register(user);
	await addContact(user, bob.username);
	// Enough history that the conversation scrolls (axe: scrollable-region-focusable).
	for (let i = 1; i <= 30; i++) await bob.messenger.send(user.name, `Line ${i} of a long story.`);
	for (const text of ['Hi! Are we still on for Friday?', 'I booked the table for eight.'])
		await bob.messenger.send(user.name, text);
	// A stranger's message: a request.
	await eve.messenger.send(user.name, 'Hello, we met at the conference.');
	await user.page.locator(`[data-peer="${eve.username}"]`).waitFor({ timeout: 30_000 });
	await user.page.locator(`[data-peer="${bob.username}"]`).click();
	await messageLog(user).getByText('I booked the table for eight.').waitFor({ timeout: 15_000 });
	await send(user, 'Great, see you there.');
	// A time-lock of their own, for the Sealed page.
	await user.page.getByRole('button', { name: 'Lock until…' }).click();
	await user.page.getByRole('button', { name: 'Custom' }).click();
	await user.page.getByLabel(/Unlock date and time/).fill(toLocalInput(Date.now() + 7 * 86_400_000));
	await send(user, 'A surprise for next week.');
	await user.page
		.locator('li[data-timelocked="locked"]', { hasText: 'A surprise for next week.' })
		.waitFor({ timeout: 15_000 });
});

afterAll(async () => {
	bob?.close();
	eve?.close();
	await browser?.close();
	await hub?.stop();
});

describe('axe finds nothing to fix on any screen, at 360 and 1280 px, light and dark', () => {
	it('sign-in and register', async () => {
		const page = visitor.page;
		await page.goto('/');
		await page.getByRole('heading', { level: 1 }).waitFor({ timeout: 30_000 });
		const signIn = await audit(page, 'sign-in');
		await page.getByRole('button', { name: 'Create account' }).first().click();
		await page.getByLabel('Username', { exact: true }).fill('someone');
		await page.getByLabel('Password', { exact: true }).fill('not a very good one');
		const registerForm = await audit(page, 'register');
		expect([...signIn, ...registerForm].join('\n')).toBe('');
	});

	it('chat list (with a request), conversation, Details, a request', async () => {
		const page = user.page;
		await open(page, '/chat', 'Your conversations');
		const list = await audit(page, 'chat list');
		await open(page, `/chat/${bob.username}`, bob.username);
		await messageLog(user).getByText('Great, see you there.').waitFor({ timeout: 15_000 });
		const conversation = await audit(page, 'conversation');
		await page.getByRole('button', { name: 'Details' }).click();
		await page.locator('#conversation-details').waitFor();
		const details = await audit(page, 'details');
		await open(page, `/chat/${eve.username}`, eve.username);
		await messageLog(user).getByText('Hello, we met at the conference.').waitFor({ timeout: 15_000 });
		const request = await audit(page, 'request');
		expect([...list, ...conversation, ...details, ...request].join('\n')).toBe('');
	});

	it('Contacts, Add contact, Devices, Sealed, Activity', async () => {
		const page = user.page;
		await open(page, '/contacts', 'Contacts');
		const contacts = await audit(page, 'contacts');
		await open(page, '/add#damaged', 'Add a contact');
		const add = await audit(page, 'add contact');
		await open(page, '/devices', 'Devices');
		await page.locator('li').first().waitFor();
		const devices = await audit(page, 'devices');
		await open(page, '/sealed', 'Sealed messages');
		await page.getByText('A surprise for next week.').waitFor({ timeout: 15_000 });
		const sealed = await audit(page, 'sealed');
		await open(page, '/activity', 'Account activity');
		const activity = await audit(page, 'activity');
		expect([...contacts, ...add, ...devices, ...sealed, ...activity].join('\n')).toBe('');
	});

	it('Settings, Password, Search', async () => {
		const page = user.page;
		await open(page, '/settings', 'Settings');
		const settings = await audit(page, 'settings');
		await open(page, '/password', 'Change password');
		const password = await audit(page, 'password');
		await open(page, '/search', 'Search messages');
		await page.getByLabel('Words to find').fill('table');
		await page.getByRole('main').locator('mark').first().waitFor({ timeout: 15_000 });
		const search = await audit(page, 'search');
		expect([...settings, ...password, ...search].join('\n')).toBe('');
		expect(user.errors).toEqual([]);
	});
});
