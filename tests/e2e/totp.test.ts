import { generateSync } from 'otplib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub';
import { DESKTOP, PASSWORD, launchChromium, openPerson, register, uniqueName, type Person } from './support';

const STEP_MS = 30_000;
/** The hub's clock runs ahead of the wall clock by this much; moving it on is how a test waits for the next code. */
let offsetMs = 0;
let hub: TestHub;
let browser: Browser;
const people: Person[] = [];

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_totp', now: () => Date.now() + offsetMs });
	browser = await launchChromium();
});

afterAll(async () => {
	await browser?.close();
	await hub?.stop();
});

/** The code an authenticator app shows now by the hub's clock. */
function codeNow(secret: string): string {
	return generateSync({ secret, epoch: Math.floor((Date.now() + offsetMs) / 1000) });
}

describe('two-factor authentication in the PWA', () => {
	it('is enabled from the QR screen with a first code; a fresh browser then signs in, and unlocks after a sign-out, with a code', async () => {
		const alice = await openPerson(browser, hub.url, uniqueName('alice'), DESKTOP);
		people.push(alice);
		await register(alice);
		const { page } = alice;

		await page.getByLabel(`Account menu for ${alice.name}`).click();
		await page.getByRole('link', { name: 'Settings and security' }).click();
		await page.waitForURL('**/settings');
		await page.getByRole('status').getByText('Off.').waitFor({ timeout: 15_000 });
		await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
		await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();

		const secret = (await page.getByTestId('totp-secret').textContent({ timeout: 30_000 }))?.trim() ?? '';
		expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
		const qr = await page.getByAltText('QR code for your authenticator app').getAttribute('src');
		expect(qr).toMatch(/^data:image\/png;base64,/);
		await page.getByLabel('Code shown by the app').fill(codeNow(secret));
		await page.getByRole('button', { name: 'Turn on' }).click();
		await page.getByText('Two-factor authentication is on.').waitFor({ timeout: 15_000 });
		expect(await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count()).toBe(10);
		await page.getByRole('button', { name: 'I have saved them' }).click();
		await page.getByText('10 recovery codes left.').waitFor();

		// Another browser: the password alone is not enough.
		const phone = await openPerson(browser, hub.url, alice.name, DESKTOP);
		people.push(phone);
		await phone.page.goto('/');
		await phone.page.getByLabel('Username', { exact: true }).fill(alice.name);
		await phone.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
		await phone.page.locator('form').getByRole('button', { name: 'Sign in' }).click();
		const codeField = phone.page.getByLabel('Code', { exact: true });
		await codeField.waitFor({ timeout: 30_000 });
		expect(phone.page.url()).not.toMatch(/\/chat/);

		// A wrong code is refused and the same screen takes the right one (of the next time step).
		await codeField.fill('000000');
		await phone.page.getByRole('button', { name: 'Verify' }).click();
		await phone.page.getByRole('alert').waitFor({ timeout: 15_000 });
		offsetMs += STEP_MS;
		await codeField.fill(codeNow(secret));
		await phone.page.getByRole('button', { name: 'Verify' }).click();
		await phone.page.waitForURL('**/chat', { timeout: 30_000 });
		await phone.page.locator('[data-connection="online"]').waitFor({ timeout: 15_000 });

		// Signed out, this browser keeps the sealed account: unlocking it signs in again, with a code.
		await phone.page.getByLabel(`Account menu for ${alice.name}`).click();
		await phone.page.getByRole('button', { name: 'Sign out…' }).click();
		await phone.page.getByRole('checkbox', { name: /Erase this device/ }).uncheck();
		await phone.page.getByRole('dialog').getByRole('button', { name: 'Sign out' }).click();
		await phone.page.getByRole('heading', { name: 'Unlock Hourglass' }).waitFor({ timeout: 15_000 });
		await phone.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
		await phone.page.locator('form').getByRole('button', { name: 'Unlock' }).click();
		await codeField.waitFor({ timeout: 30_000 });
		offsetMs += STEP_MS;
		await codeField.fill(codeNow(secret));
		await phone.page.getByRole('button', { name: 'Verify' }).click();
		await phone.page.waitForURL('**/chat', { timeout: 30_000 });
		await phone.page.locator('[data-connection="online"]').waitFor({ timeout: 15_000 });

		for (const person of people) expect(person.errors).toEqual([]);
	});
});
