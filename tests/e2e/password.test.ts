import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	DESKTOP,
	PASSWORD,
	PHONE,
	launchChromium,
	messageLog,
	openConversation,
	openPerson,
	register,
	send,
	startConversation,
	uniqueName,
	type Person,
} from './support';

const NEW_PASSWORD = 'quiet meadow ferry compass 77';

let hub: TestHub;
let browser: Browser;
let laptop: Person;
let phone: Person;
let bob: Person;
/** The phone's socket can be held back (Playwright's WebSocket routes apply from the next page load). */
let socketAllowed = true;

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_password' });
	browser = await launchChromium();
	const name = uniqueName('alice');
	laptop = await openPerson(browser, hub.url, name, DESKTOP);
	phone = await openPerson(browser, hub.url, name, PHONE);
	bob = await openPerson(browser, hub.url, uniqueName('bob'), DESKTOP);
	await phone.context.routeWebSocket(/\/socket\.io\//, (ws) => {
		if (socketAllowed) ws.connectToServer();
		else void ws.close();
	});
});

afterAll(async () => {
	await browser?.close();
	await hub?.stop();
});

describe('changing the password with a second device open', () => {
	it('signs the other device out; it unlocks with the new password and still reads its history', async () => {
		await register(laptop);
		await register(bob);
		// The second device of the same account signs in and receives a message into its own history.
		await phone.page.goto('/');
		await phone.page.getByLabel('Username', { exact: true }).fill(phone.name);
		await phone.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
		await phone.page.locator('form').getByRole('button', { name: 'Sign in' }).click();
		await phone.page.locator('[data-connection="online"]').waitFor({ timeout: 30_000 });
		await startConversation(bob, laptop.name);
		await send(bob, 'Written before the change.');
		const row = phone.page.locator(`[data-peer="${bob.name}"]`);
		await row.waitFor({ timeout: 15_000 });
		await openConversation(phone, bob.name);
		await messageLog(phone).getByText('Written before the change.').waitFor({ timeout: 15_000 });

		// The laptop changes the password from the account menu.
		await laptop.page.getByText(laptop.name, { exact: true }).first().click();
		await laptop.page.getByRole('link', { name: 'Change password' }).click();
		await laptop.page.waitForURL('**/password');
		await laptop.page.getByLabel('Current password').fill(PASSWORD);
		await laptop.page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
		await laptop.page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
		await laptop.page.getByRole('button', { name: 'Change password' }).click();
		await laptop.page
			.getByRole('status')
			.getByText('Password changed. 1 other session was signed out')
			.waitFor({ timeout: 30_000 });

		// The phone is signed out to the unlock screen, which says why.
		await phone.page.waitForURL('**/login', { timeout: 15_000 });
		await phone.page.getByText('The password was changed on another device').waitFor();
		// The old password opens nothing any more.
		await phone.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
		await phone.page.locator('form').getByRole('button', { name: 'Unlock' }).click();
		await phone.page.getByRole('alert').waitFor({ timeout: 30_000 });
		expect(await phone.page.getByRole('alert').textContent()).toMatch(/wrong/i);
		// The new one does, and the history sealed on this device before the change is readable: with
		// its socket held back, what it shows comes from its own Dexie, not from a fresh sync.
		socketAllowed = false;
		await phone.page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
		await phone.page.locator('form').getByRole('button', { name: 'Unlock' }).click();
		await phone.page.waitForURL('**/chat', { timeout: 30_000 });
		await openConversation(phone, bob.name);
		await messageLog(phone).getByText('Written before the change.').waitFor({ timeout: 15_000 });
		expect(await phone.page.locator('[data-connection="online"]').count()).toBe(0);
		socketAllowed = true;
		await phone.page.locator('[data-connection="online"]').waitFor({ timeout: 30_000 });

		// And it keeps receiving under the new session.
		await send(bob, 'Written after the change.');
		await messageLog(phone).getByText('Written after the change.').waitFor({ timeout: 15_000 });
		expect([...laptop.errors, ...phone.errors, ...bob.errors]).toEqual([]);
	});
});
