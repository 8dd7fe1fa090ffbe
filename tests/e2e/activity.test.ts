import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ApiError, HubApi, signIn as sdkSignIn } from '../../src/lib/sdk';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	DESKTOP,
	PHONE,
	launchChromium,
	openPerson,
	register,
	screenshot,
	signIn,
	uniqueName,
	type Person,
} from './support';

let hub: TestHub;
let browser: Browser;
let carol: Person;
let carolPhone: Person;

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_activity' });
	browser = await launchChromium();
	carol = await openPerson(browser, hub.url, uniqueName('carol'), DESKTOP);
	carolPhone = await openPerson(browser, hub.url, carol.name, PHONE);
});

afterAll(async () => {
	await browser?.close();
	await hub?.stop();
});

describe('the Activity page', () => {
	it("lists a new device's sign-in and a stranger's wrong password, marked for a second look", async () => {
		await register(carol);
		await signIn(carolPhone);
		// Someone who does not know the password tries it, from outside the browser.
		const refused = await sdkSignIn(
			new HubApi({ baseUrl: hub.url }),
			carol.name,
			'a guess that is wrong',
		).catch((error: unknown) => error);
		expect(refused).toBeInstanceOf(ApiError);
		expect((refused as ApiError).code).toBe('INVALID_CREDENTIALS');

		// From the account menu, by keyboard.
		const { page } = carol;
		await page.getByLabel(/^Account menu/).focus();
		await page.keyboard.press('Enter');
		const link = page.getByRole('link', { name: 'Activity' });
		await link.focus();
		await page.keyboard.press('Enter');
		await page.waitForURL('**/activity');
		await expect(page.title()).resolves.toBe('Activity · Hourglass');

		const items = page.getByRole('list', { name: 'Activity, newest first' }).getByRole('listitem');
		await expect.poll(() => items.count(), { timeout: 15_000 }).toBe(3);
		const texts = await items.allTextContents();
		expect(texts[0]).toContain('Wrong password entered');
		expect(texts[0]).toContain('Check');
		expect(texts[1]).toContain('Signed in from a new device');
		expect(texts[1]).toContain('Chrome on Linux');
		expect(texts[1]).toContain('127.0.0.0/16');
		expect(texts[2]).toContain('Account created');
		expect(texts[2]).not.toContain('Check');
		await page.getByText('2 events below deserve a look').waitFor();
		await screenshot(carol, 'activity.png');
		expect(carol.errors).toEqual([]);
		expect(carolPhone.errors).toEqual([]);
	});
});
