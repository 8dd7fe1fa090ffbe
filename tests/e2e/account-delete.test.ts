import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub';
import { DESKTOP, PASSWORD, launchChromium, openPerson, register, uniqueName, type Person } from './support';

let hub: TestHub;
let browser: Browser;
const people: Person[] = [];

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_account_delete' });
	browser = await launchChromium();
});

afterAll(async () => {
	await browser?.close();
	await hub?.stop();
});

describe('deleting the account in the PWA', () => {
	it('refuses a wrong password, then deletes the account on the hub and this browser’s copy of it', async () => {
		const alice = await openPerson(browser, hub.url, uniqueName('alice'), DESKTOP);
		people.push(alice);
		await register(alice);
		const { page } = alice;
		const username = alice.name.toLowerCase();
		const databases = () =>
			page.evaluate(async () => (await indexedDB.databases()).map((db) => db.name ?? ''));
		expect(await databases()).toContain(`hourglass-${username}`);

		await page.getByLabel(`Account menu for ${alice.name}`).click();
		await page.getByRole('link', { name: 'Settings and security' }).click();
		await page.waitForURL('**/settings');
		const remove = page.getByRole('button', { name: 'Delete my account' });
		expect(await remove.isDisabled()).toBe(true);
		await page.getByLabel('Your password').fill('not the password at all');
		await page.getByRole('checkbox', { name: /deleted for good/ }).check();
		await remove.click();
		await page.getByRole('alert').waitFor({ timeout: 30_000 });
		expect(await hub.hub.context.store.users.get(username)).not.toBeNull();

		await page.getByLabel('Your password').fill(PASSWORD);
		await remove.click();
		await page.waitForURL('**/login', { timeout: 30_000 });
		expect(await hub.hub.context.store.users.get(username)).toBeNull();
		await expect.poll(databases, { timeout: 15_000 }).not.toContain(`hourglass-${username}`);
		// Nothing left to unlock: the sign-in form, not the unlock screen.
		await page.getByLabel('Username', { exact: true }).waitFor({ timeout: 15_000 });
	});
});
