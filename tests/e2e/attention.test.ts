import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestHub, type TestHub } from '../helpers/hub';
import { newUser, uniqueName as uniqueScriptName, type TestClient } from '../helpers/users';
import {
	DESKTOP,
	PHONE,
	addContact,
	launchChromium,
	openConversation,
	openPerson,
	register,
	serviceWorkerReady,
	signIn,
	uniqueName,
	type Person,
} from './support';

let hub: TestHub;
let browser: Browser;
let alice: Person;
let aliceLaptop: Person;
let bob: TestClient;

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_attention' });
	browser = await launchChromium();
	alice = await openPerson(browser, hub.url, uniqueName('alice'), PHONE);
	aliceLaptop = await openPerson(browser, hub.url, alice.name, DESKTOP);
	// Allowed before the app loads, as if the user had said yes on an earlier visit.
	await alice.context.grantPermissions(['notifications']);
	bob = await newUser(hub.url, uniqueScriptName('bob'));
});

afterAll(async () => {
	bob?.close();
	await browser?.close();
	await hub?.stop();
});

async function openSettings(person: Person): Promise<void> {
	const { page } = person;
	await page.getByLabel(/^Account menu/).click();
	await page.getByRole('link', { name: 'Settings and security' }).click();
	await page.waitForURL('**/settings');
}

describe('attention, in the browser', () => {
	it('the title counts unread messages, and clears when they are read, here or on another device', async () => {
		await register(alice);
		await signIn(aliceLaptop);
		await addContact(alice, bob.username);
		for (const text of ['one', 'two', 'three']) await bob.messenger.send(alice.name, text);
		await expect.poll(() => alice.page.title(), { timeout: 20_000 }).toBe('(3) Conversations · Hourglass');
		await expect.poll(() => aliceLaptop.page.title(), { timeout: 20_000 }).toMatch(/^\(3\) /);

		await openConversation(alice, bob.username);
		await expect.poll(() => alice.page.title(), { timeout: 15_000 }).toBe(`${bob.username} · Hourglass`);
		// Read on the phone: the laptop's count goes too.
		await expect.poll(() => aliceLaptop.page.title(), { timeout: 20_000 }).not.toMatch(/^\(\d/);

		// A page that sets its own title keeps the count in front of it.
		await alice.page.getByRole('link', { name: 'Hourglass, conversations' }).click();
		await bob.messenger.send(alice.name, 'four');
		await expect.poll(() => alice.page.title(), { timeout: 20_000 }).toBe('(1) Conversations · Hourglass');
		await openSettings(alice);
		await expect.poll(() => alice.page.title(), { timeout: 10_000 }).toBe('(1) Settings · Hourglass');
		expect(alice.errors).toEqual([]);
	});

	it('a notification of the page is shown by the service worker', async () => {
		const { page } = alice;
		await serviceWorkerReady(alice);
		await expect.poll(() => page.getByTestId('notification-permission').textContent()).toContain('allowed');
		const button = page.getByRole('button', { name: 'Show a test notification' });
		await button.click();
		// Disabled while it waits for showNotification: enabled again means the browser answered.
		await expect.poll(() => button.isEnabled(), { timeout: 15_000 }).toBe(true);
		// Shown, or the reason it was not (Settings says it in an alert), so a failure names its cause.
		const shown = () =>
			page.evaluate(async () => {
				const registration = await navigator.serviceWorker.ready;
				const titles = (await registration.getNotifications()).map((n) => n.title);
				const alerts = [...document.querySelectorAll('[role="alert"]')].map((a) => a.textContent?.trim());
				return { titles, alerts };
			});
		await expect.poll(shown, { timeout: 15_000 }).toEqual({
			titles: expect.arrayContaining(['Hourglass notifications work on this device']),
			alerts: [],
		});
	});

	it('a push message reaching the service worker shows who wrote, and only that', async () => {
		const { page, context } = alice;
		const cdp = await context.newCDPSession(page);
		const registration = new Promise<string>((resolve) => {
			cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
				const ours = registrations.find((r) => r.scopeURL.startsWith(hub.url) && !r.isDeleted);
				if (ours) resolve(ours.registrationId);
			});
		});
		await cdp.send('ServiceWorker.enable');
		// What a push service hands the browser after decrypting (the hub's plaintext, tests/integration/push.test.ts).
		await cdp.send('ServiceWorker.deliverPushMessage', {
			origin: new URL(hub.url).origin,
			registrationId: await registration,
			data: JSON.stringify({ t: 'msg', from: 'zoe' }),
		});
		await expect
			.poll(
				() =>
					page.evaluate(async () => {
						const registration = await navigator.serviceWorker.ready;
						return (await registration.getNotifications({ tag: 'chat:zoe' })).map((n) => ({
							title: n.title,
							body: n.body,
						}));
					}),
				{ timeout: 15_000 },
			)
			.toEqual([{ title: 'New message from zoe', body: '' }]);
		await cdp.detach();
	});

	it('the "when the app is closed" switch works from the keyboard, and a failure says why and changes nothing', async () => {
		const { page } = alice;
		const toggle = page.getByRole('switch', { name: 'Notifications when the app is closed' });
		await expect.poll(() => toggle.isDisabled(), { timeout: 15_000 }).toBe(false);
		expect(await toggle.isChecked()).toBe(false);
		await toggle.focus();
		await page.keyboard.press('Space');
		// Headless Chromium cannot subscribe (it has no push service: "Registration failed - permission
		// denied"): the reason is shown, the switch goes back off and the hub holds no subscription.
		const alert = page.getByRole('alert');
		await expect.poll(() => alert.count(), { timeout: 30_000 }).toBeGreaterThan(0);
		expect(await alert.first().textContent()).toMatch(/Registration failed/);
		await expect.poll(() => toggle.isChecked()).toBe(false);
		const enabled = await page.evaluate(async () => {
			const response = await fetch('/api/push/subscription');
			return ((await response.json()) as { enabled: boolean }).enabled;
		});
		expect(enabled).toBe(false);
	});
});
