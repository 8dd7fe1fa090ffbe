import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	DESKTOP,
	PASSWORD,
	dumpDatabase,
	PHONE,
	launchChromium,
	messageLog,
	openConversation,
	openPerson,
	register,
	screenshot,
	send,
	signIn,
	startConversation,
	uniqueName,
	type Person,
} from './support';

let hub: TestHub;
let browser: Browser;
let alice: Person;
let aliceLaptop: Person;
let bob: Person;

beforeAll(async () => {
	// The app lock after one minute without interaction; sessions themselves last SESSION_DAYS.
	hub = await startTestHub({ name: 'e2e_devices', env: { SESSION_IDLE_MINUTES: '1' } });
	browser = await launchChromium();
	alice = await openPerson(browser, hub.url, uniqueName('alice'), DESKTOP);
	aliceLaptop = await openPerson(browser, hub.url, alice.name, DESKTOP);
	bob = await openPerson(browser, hub.url, uniqueName('bob'), PHONE);
	// Bob's browser runs on a clock the test moves: a minute of idleness without waiting one.
	await bob.context.clock.install();
});

afterAll(async () => {
	await browser?.close();
	await hub?.stop();
});

async function openDevices(page: Page): Promise<void> {
	await page.getByLabel(/^Account menu/).click();
	await page.getByRole('link', { name: 'Devices' }).click();
	await page.waitForURL('**/devices');
}

describe('devices and the app lock', () => {
	it('signs the other device out from the Devices page, and that device is signed out at once', async () => {
		await register(alice);
		await signIn(aliceLaptop, { trust: true });

		await openDevices(alice.page);
		const items = alice.page.getByRole('list', { name: 'Signed-in devices' }).getByRole('listitem');
		await expect.poll(() => items.count(), { timeout: 15_000 }).toBe(2);
		const here = alice.page.locator('li[data-current="true"]');
		expect(await here.textContent()).toContain('This device');
		expect(await here.textContent()).toContain('Chrome on Linux');
		const other = alice.page.locator('li[data-current="false"]');
		expect(await other.textContent()).toContain('Trusted');
		expect(await other.textContent()).toContain('127.0.0.0/16');
		await screenshot(alice, 'devices.png');

		alice.page.once('dialog', (dialog) => void dialog.accept());
		await other.getByRole('button', { name: /^Sign out / }).click();
		await expect.poll(() => items.count(), { timeout: 15_000 }).toBe(1);

		// The laptop is told at once: its keys are gone and it asks for the password.
		await aliceLaptop.page.waitForURL('**/login', { timeout: 15_000 });
		await aliceLaptop.page.getByText('This device was signed out from another device.').waitFor();
		await aliceLaptop.page.getByRole('button', { name: 'Unlock' }).waitFor();
		expect(await aliceLaptop.page.evaluate(() => sessionStorage.getItem('hourglass.unlocked'))).toBeNull();
		// Its session is over on the hub, not only on the screen.
		expect((await aliceLaptop.page.request.get('/api/auth/session')).status()).toBe(401);
		expect((await alice.page.request.get('/api/auth/session')).status()).toBe(200);
	});

	it('locks an idle tab after SESSION_IDLE_MINUTES, keeps receiving while locked, and shows the messages on unlock', async () => {
		await register(bob);
		await alice.page.getByRole('link', { name: 'Chats' }).click();
		await startConversation(alice, bob.name);
		await send(alice, 'Before the lock.');
		await bob.page.locator(`[data-peer="${alice.name}"]`).waitFor({ timeout: 15_000 });
		await openConversation(bob, alice.name);
		await messageLog(bob).getByText('Before the lock.').waitFor({ timeout: 15_000 });

		// A minute and a bit without touching the page.
		await bob.page.clock.fastForward('01:05');
		await bob.page.waitForURL('**/login', { timeout: 15_000 });
		await bob.page.getByRole('button', { name: 'Unlock' }).waitFor();
		await bob.page.locator('[data-locked-inbox]').waitFor();
		expect(await bob.page.getByText('Before the lock.').count()).toBe(0);
		expect(await bob.page.evaluate(() => sessionStorage.getItem('hourglass.unlocked'))).toBeNull();

		await send(alice, 'While you were away.');
		// Bob's locked tab has it (the sender sees it delivered), says only that something came…
		await alice.page
			.locator('li[data-status="delivered"]', { hasText: 'While you were away.' })
			.waitFor({ timeout: 15_000 });
		await bob.page.locator('[data-waiting="1"]').waitFor({ timeout: 15_000 });
		await bob.page.getByText('Something new arrived').waitFor();
		expect(await bob.page.getByText('While you were away.').count()).toBe(0);
		expect(await bob.page.getByText(alice.name).count()).toBe(0);
		// …and keeps it as ciphertext only.
		const kept = await dumpDatabase(bob.page, `hourglass-${bob.name}-pending`);
		expect(kept).toContain('"ciphertext"');
		expect(kept).not.toContain('While you were away.');
		await screenshot(bob, 'app-locked-mobile.png');

		await bob.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
		await bob.page.getByRole('button', { name: 'Unlock' }).click();
		await bob.page.waitForURL('**/chat', { timeout: 30_000 });
		await openConversation(bob, alice.name);
		await messageLog(bob).getByText('While you were away.').waitFor({ timeout: 15_000 });
		await messageLog(bob).getByText('Before the lock.').waitFor();
		await expect
			.poll(async () => JSON.parse(await dumpDatabase(bob.page, `hourglass-${bob.name}-pending`)).pending, {
				timeout: 15_000,
			})
			.toEqual([]);
	});

	it("offers to erase this device's data at sign-out, by default on a device not marked trusted", async () => {
		await bob.page.getByLabel(/^Account menu/).click();
		await bob.page.getByRole('button', { name: 'Sign out…' }).click();
		const erase = bob.page.getByRole('checkbox', { name: /Erase this device/ });
		expect(await erase.isChecked()).toBe(true);
		await bob.page.getByRole('dialog').getByRole('button', { name: 'Sign out' }).click();
		// Nothing left to unlock: the sign-in form, and no database of bob's in this browser.
		await bob.page.getByRole('button', { name: 'Create account' }).first().waitFor({ timeout: 15_000 });
		const names = await bob.page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
		expect(names.filter((n) => n?.includes(bob.name))).toEqual([]);
		expect((await bob.page.request.get('/api/auth/session')).status()).toBe(401);
	});

	it('raised no error in any browser', () => {
		expect(alice.errors).toEqual([]);
		expect(aliceLaptop.errors).toEqual([]);
		expect(bob.errors).toEqual([]);
	});
});
