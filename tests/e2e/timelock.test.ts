import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	DESKTOP,
	PHONE,
	firstMessage,
	launchChromium,
	messageLog,
	openConversation,
	openPerson,
	register,
	screenshot,
	send,
	toLocalInput,
	uniqueName,
	type Person,
} from './support';

/** Bob's phone runs three hours slow; his countdowns must still follow the hub's clock. */
const BOB_CLOCK_SKEW_MS = -3 * 3600_000;
/** How late after its unlock time a message may appear on an open screen. */
const LATENESS_MS = 3_000;

let hub: TestHub;
let browser: Browser;
let alice: Person;
let bob: Person;

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_timelock' });
	browser = await launchChromium();
	alice = await openPerson(browser, hub.url, uniqueName('alice'), DESKTOP);
	bob = await openPerson(browser, hub.url, uniqueName('bob'), PHONE, { clockSkewMs: BOB_CLOCK_SKEW_MS });
	await register(alice);
	await register(bob);
	await firstMessage(alice, bob, 'Something is coming.');
	// Set once: if Bob's page ever reloaded, this would be gone.
	await bob.page.evaluate(() => {
		(window as unknown as { noReload: boolean }).noReload = true;
	});
});

afterAll(async () => {
	await browser?.close();
	await hub?.stop();
});

/** Alice locks `text` through the composer's "Lock until…" picker; resolves once the hub stored it. */
async function lock(text: string, secondsAhead: number, announce: boolean): Promise<number> {
	const page = alice.page;
	// The picker has one-second steps: unlock on a whole second.
	const unlockAt = Math.ceil((Date.now() + secondsAhead * 1000) / 1000) * 1000;
	await page.getByRole('button', { name: 'Lock until…' }).click();
	await page.getByRole('button', { name: 'Custom' }).click();
	await page.getByLabel(/Unlock date and time/).fill(toLocalInput(unlockAt));
	await page.getByLabel(/Announce: /).setChecked(announce);
	await send(alice, text);
	await page
		.locator('li[data-status="sent"][data-timelocked="locked"]', { hasText: text })
		.waitFor({ timeout: 10_000 });
	return unlockAt;
}

async function expectNoReload(): Promise<void> {
	expect(await bob.page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
}

describe('time-locked messages in the browser', () => {
	it('unannounced: the recipient sees nothing before the unlock, then the message arrives live', async () => {
		const text = 'Unannounced: happy birthday!';
		const unlockAt = await lock(text, 8, false);

		// Sent after the lock was stored: the hub relays to Bob in order, so anything it told him
		// about the lock would have arrived before this marker.
		await send(alice, 'marker after the unannounced lock');
		await messageLog(bob).getByText('marker after the unannounced lock').waitFor({ timeout: 10_000 });
		expect(Date.now()).toBeLessThan(unlockAt);
		expect(await bob.page.locator('li[data-status="sealed"]').count()).toBe(0);
		expect(await bob.page.getByText(text).count()).toBe(0);
		expect(await bob.page.getByText('sent you a time-locked message').count()).toBe(0);

		const arrived = messageLog(bob).locator('li[data-timelocked="unlocked"]', { hasText: text });
		await arrived.waitFor({ timeout: 20_000 });
		const seenAt = Date.now();
		expect(seenAt).toBeGreaterThanOrEqual(unlockAt);
		expect(seenAt - unlockAt).toBeLessThan(LATENESS_MS);
		expect(await arrived.textContent()).toMatch(/Time-locked · sent .+ · unlocked/);
		await bob.page.getByText(`Time-locked message from ${alice.name} unlocked`).first().waitFor();
		await expectNoReload();
	});

	it('announced: a sealed placeholder counts down by the hub clock, then turns into the message', async () => {
		const text = 'Announced: the answer is 42.';
		const unlockAt = await lock(text, 10, true);

		const placeholder = messageLog(bob).locator('li[data-status="sealed"]');
		await placeholder.waitFor({ timeout: 10_000 });
		const id = await placeholder.getAttribute('data-id');
		expect(await placeholder.textContent()).toContain(`Sealed message from ${alice.name}`);
		expect(await bob.page.getByText(text).count()).toBe(0);

		// Bob's clock is three hours slow, yet the countdown shows seconds, and it ticks.
		const countdown = placeholder.locator('time.countdown');
		const first = (await countdown.textContent()) ?? '';
		expect(first.trim()).toMatch(/^00:(0\d|1[01])$/);
		await expect.poll(() => countdown.textContent(), { timeout: 3_000 }).not.toBe(first);

		await screenshot(bob, 'timelock-sealed-mobile.png');
		await screenshot(alice, 'timelock-sender.png');

		const released = messageLog(bob).locator(`li[data-id="${id}"][data-status="received"]`);
		await released.waitFor({ timeout: 20_000 });
		const seenAt = Date.now();
		expect(seenAt).toBeGreaterThanOrEqual(unlockAt);
		expect(seenAt - unlockAt).toBeLessThan(LATENESS_MS);
		expect(await released.textContent()).toContain(text);
		expect(await released.getAttribute('data-timelocked')).toBe('unlocked');
		expect(await messageLog(bob).locator('li[data-status="sealed"]').count()).toBe(0);
		await expectNoReload();
		await screenshot(bob, 'timelock-unlocked-mobile.png');
	});

	it('the sender lists a sealed message with its countdown and cancels it; the placeholder goes', async () => {
		const text = 'Announced, then cancelled.';
		// Inside a countdown's last two minutes, where it shows seconds (further away it shows minutes).
		await lock(text, 100, true);
		const placeholder = messageLog(bob).locator('li[data-status="sealed"]');
		await placeholder.waitFor({ timeout: 10_000 });

		await alice.page.getByRole('link', { name: 'Sealed' }).click();
		await alice.page.waitForURL('**/sealed');
		const item = alice.page
			.getByRole('list', { name: 'Locked messages' })
			.getByRole('listitem')
			.filter({ hasText: text });
		await item.waitFor({ timeout: 10_000 });
		expect(await item.locator('time.countdown').textContent()).toMatch(/^\s*01:\d\d\s*$/);
		await screenshot(alice, 'sealed-view.png');

		alice.page.once('dialog', (dialog) => void dialog.accept());
		await item.getByRole('button', { name: 'Cancel' }).click();
		await item.waitFor({ state: 'detached', timeout: 10_000 });
		await placeholder.waitFor({ state: 'detached', timeout: 10_000 });
		await expectNoReload();
	});

	it('a device offline at the unlock gets the message at its next sync, in its place by unlock time', async () => {
		await bob.context.setOffline(true);
		await bob.page.locator('[data-connection="offline"]').waitFor({ timeout: 10_000 });

		await alice.page.getByRole('link', { name: 'Chats' }).click();
		await openConversation(alice, bob.name);
		const text = 'Locked while Bob was offline.';
		await lock(text, 6, false);
		await send(alice, 'Sent before the unlock.');
		// Alice's own copy turns "unlocked" when the hub clock passes the unlock time.
		await alice.page
			.locator('li[data-timelocked="unlocked"]', { hasText: text })
			.waitFor({ timeout: 20_000 });
		await send(alice, 'Sent after the unlock.');
		await alice.page
			.locator('li[data-status="sent"], li[data-status="delivered"]', { hasText: 'Sent after the unlock.' })
			.waitFor({ timeout: 10_000 });

		await bob.context.setOffline(false);
		await messageLog(bob).getByText('Sent after the unlock.').waitFor({ timeout: 30_000 });
		const order = await messageLog(bob)
			.locator('li p.text')
			.evaluateAll((nodes) => nodes.map((n) => n.textContent));
		const at = (t: string) => order.indexOf(t);
		expect(at('Sent before the unlock.')).toBeGreaterThanOrEqual(0);
		expect(at(text)).toBeGreaterThan(at('Sent before the unlock.'));
		expect(at('Sent after the unlock.')).toBeGreaterThan(at(text));
		const item = messageLog(bob).locator('li', { hasText: text });
		const html = await messageLog(bob).evaluate((log) => log.outerHTML);
		expect(await item.count(), html).toBe(1);
		expect(await item.getAttribute('data-timelocked'), html).toBe('unlocked');
		await expectNoReload();
	});

	it('raised no error in either browser', () => {
		expect(alice.errors).toEqual([]);
		expect(bob.errors).toEqual([]);
	});
});
