import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestHub, type TestHub } from '../helpers/hub';
import { signInUser, type TestClient } from '../helpers/users';
import {
	DESKTOP,
	PASSWORD,
	PHONE,
	launchChromium,
	messageLog,
	openConversation,
	openPerson,
	addContact,
	register,
	signIn,
	send,
	startConversation,
	uniqueName,
	type Person,
} from './support';

let hub: TestHub;
let browser: Browser;
let alice: Person;
let aliceLaptop: Person;
let bob: Person;
let bobScript: TestClient | null = null;

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_readstate' });
	browser = await launchChromium();
	alice = await openPerson(browser, hub.url, uniqueName('alice'), PHONE);
	aliceLaptop = await openPerson(browser, hub.url, alice.name, DESKTOP);
	bob = await openPerson(browser, hub.url, uniqueName('bob'), DESKTOP);
});

afterAll(async () => {
	bobScript?.close();
	await browser?.close();
	await hub?.stop();
});

/**
 * The unread badge of `peer`'s conversation in the list, as a number (0 when there is none), read
 * in one step: a count and then a `getAttribute` would wait for a badge that went in between (the
 * read being polled for) past the poll's deadline, and the poll would report the old number.
 */
async function unreadOf(person: Person, peer: string): Promise<number> {
	const badges = await person.page
		.locator(`[data-peer="${peer}"] [data-unread]`)
		.evaluateAll((found) => found.map((badge) => badge.getAttribute('data-unread')));
	return badges.length === 0 ? 0 : Number(badges[0]);
}

async function turnReceiptsOn(person: Person): Promise<void> {
	const { page } = person;
	await page.getByLabel(/^Account menu/).click();
	await page.getByRole('link', { name: 'Settings and security' }).click();
	await page.waitForURL('**/settings');
	const toggle = page.getByLabel('Send and show read receipts');
	expect(await toggle.isChecked()).toBe(false);
	await toggle.check();
	await expect.poll(() => toggle.isChecked(), { timeout: 15_000 }).toBe(true);
	await expect.poll(() => toggle.isDisabled(), { timeout: 15_000 }).toBe(false);
	await page.getByRole('link', { name: 'Hourglass, conversations' }).click();
	await page.waitForURL('**/chat');
}

describe('read state across devices, in the browser', () => {
	it('reading on the phone clears the unread badge on the laptop', async () => {
		await register(alice);
		await register(bob);
		await signIn(aliceLaptop);
		await addContact(alice, bob.name);
		await startConversation(bob, alice.name);
		for (const text of ['one', 'two', 'three']) await send(bob, text);
		await expect.poll(() => unreadOf(alice, bob.name), { timeout: 20_000 }).toBe(3);
		await expect.poll(() => unreadOf(aliceLaptop, bob.name), { timeout: 20_000 }).toBe(3);

		// A time-lock released while alice looks elsewhere: a device that signs in later must not announce it.
		bobScript = await signInUser(hub.url, bob.name, PASSWORD);
		await bobScript.messenger.send(alice.name, 'opened later', { unlockAt: Date.now() + 2_000 });
		await expect.poll(() => unreadOf(aliceLaptop, bob.name), { timeout: 30_000 }).toBe(4);

		await openConversation(alice, bob.name);
		await messageLog(alice).getByText('opened later').waitFor({ timeout: 15_000 });
		await expect.poll(() => unreadOf(aliceLaptop, bob.name), { timeout: 20_000 }).toBe(0);
		expect(aliceLaptop.errors).toEqual([]);
	});

	it('a device signed in later shows nothing old as unread and notifies of nothing old', async () => {
		const tablet = await openPerson(browser, hub.url, alice.name, DESKTOP);
		await tablet.context.grantPermissions(['notifications']);
		// Every system notification the page makes, and the page seen as hidden (where the app uses them).
		await tablet.context.addInitScript(() => {
			const shown: string[] = [];
			(window as unknown as { shownNotifications: string[] }).shownNotifications = shown;
			const Real = window.Notification;
			class Counted extends Real {
				constructor(title: string, options?: NotificationOptions) {
					super(title, options);
					shown.push(title);
				}
			}
			Object.defineProperty(Counted, 'permission', { get: () => Real.permission });
			window.Notification = Counted as typeof Notification;
			const showNotification = ServiceWorkerRegistration.prototype.showNotification;
			ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
				shown.push(title);
				return showNotification.call(this, title, options);
			};
			Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
		});
		const shown = () =>
			tablet.page.evaluate(() => (window as unknown as { shownNotifications: string[] }).shownNotifications);
		const toasts = tablet.page.getByRole('region', { name: 'Status messages' }).getByRole('status');

		await signIn(tablet);
		const row = tablet.page.locator(`[data-peer="${bob.name}"]`);
		await row.waitFor({ timeout: 20_000 });
		await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain('opened later');
		// The first sync is over (the list is no longer busy): only then is "nothing" an answer.
		await tablet.page.locator('ul[aria-busy="false"]').waitFor({ timeout: 20_000 });
		expect(await unreadOf(tablet, bob.name)).toBe(0);
		expect(await shown()).toEqual([]);
		expect(await toasts.count()).toBe(0);

		// Something new is news: the counter and the notification work.
		await bobScript!.messenger.send(alice.name, 'news after sign-in');
		await expect.poll(() => unreadOf(tablet, bob.name), { timeout: 20_000 }).toBe(1);
		await expect.poll(shown, { timeout: 20_000 }).toEqual([`New message from ${bob.name}`]);
		expect(tablet.errors).toEqual([]);
		await tablet.context.close();
	});

	it('with read receipts on at both ends, the sender sees "Read"', async () => {
		await turnReceiptsOn(alice);
		await turnReceiptsOn(bob);
		await openConversation(bob, alice.name);
		await send(bob, 'did you read this?');
		const mine = messageLog(bob).locator('li', { hasText: 'did you read this?' });
		await expect.poll(() => mine.getAttribute('data-status'), { timeout: 20_000 }).toBe('delivered');

		await openConversation(alice, bob.name);
		await messageLog(alice).getByText('did you read this?').waitFor({ timeout: 15_000 });
		await expect.poll(() => mine.getAttribute('data-status'), { timeout: 20_000 }).toBe('read');
		expect(await mine.textContent()).toContain('Read');
		// The laptop learnt the setting from alice's note to herself.
		await aliceLaptop.page.getByLabel(/^Account menu/).click();
		await aliceLaptop.page.getByRole('link', { name: 'Settings and security' }).click();
		await expect
			.poll(() => aliceLaptop.page.getByLabel('Send and show read receipts').isChecked(), { timeout: 20_000 })
			.toBe(true);
		expect([...alice.errors, ...bob.errors]).toEqual([]);
	});
});
