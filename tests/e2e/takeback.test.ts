import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	DESKTOP,
	PHONE,
	dumpDatabase,
	firstMessage,
	launchChromium,
	messageLog,
	openPerson,
	register,
	send,
	uniqueName,
	type Person,
} from './support';

/** The hub's "5 minutes" lasts this long here (DISAPPEARING_TIMERS_SECONDS), so the test can watch it run out. */
const FIVE_MINUTES_IN_TEST_S = 6;

let hub: TestHub;
let browser: Browser;
let alice: Person;
let bob: Person;

beforeAll(async () => {
	hub = await startTestHub({
		name: 'e2e_takeback',
		env: { DISAPPEARING_TIMERS_SECONDS: `${FIVE_MINUTES_IN_TEST_S},3600,86400,604800` },
	});
	browser = await launchChromium();
	alice = await openPerson(browser, hub.url, uniqueName('alice'), DESKTOP);
	bob = await openPerson(browser, hub.url, uniqueName('bob'), PHONE);
	await register(alice);
	await register(bob);
	await firstMessage(alice, bob, 'Hello Bob.');
});

afterAll(async () => {
	await browser?.close();
	await hub?.stop();
});

/** A row of the open conversation holding `text`. */
function row(person: Person, text: string) {
	return messageLog(person).locator('li[data-id]', { hasText: text });
}

describe('taking messages back in the browser', () => {
	it('delete for everyone: from the message menu, confirmed, and gone live on the other side', async () => {
		const text = 'I did not mean to send this';
		await send(alice, text);
		await row(alice, text).and(alice.page.locator('[data-status="delivered"]')).waitFor({ timeout: 15_000 });
		await row(bob, text).waitFor({ timeout: 15_000 });
		const id = await row(alice, text).getAttribute('data-id');

		// Keyboard only: the options button, then the menu item, then the dialog's confirmation.
		await row(alice, text).getByRole('button', { name: 'Message options' }).focus();
		await alice.page.keyboard.press('Enter');
		await alice.page.getByRole('menuitem', { name: 'Delete for everyone' }).focus();
		await alice.page.keyboard.press('Enter');
		const dialog = alice.page.getByRole('dialog', { name: 'Delete for everyone?' });
		await dialog.waitFor();
		await dialog.getByRole('button', { name: 'Delete for everyone' }).click();

		for (const person of [alice, bob]) {
			const deleted = messageLog(person).locator(`li[data-id="${id}"][data-status="deleted"]`);
			await deleted.waitFor({ timeout: 15_000 });
			expect(await deleted.textContent()).toContain('Message deleted');
			await expect.poll(() => messageLog(person).getByText(text).count(), { timeout: 5_000 }).toBe(0);
		}
		// The conversation list's preview says so too, without the text.
		const preview = alice.page.locator(`[data-peer="${bob.name}"]`);
		await preview.getByText('Message deleted').waitFor({ timeout: 10_000 });
		expect(await preview.textContent()).not.toContain(text);
		// Bob's own copy cannot be deleted for everyone: his menu offers only "Delete for me".
		await row(bob, 'Hello Bob.').getByRole('button', { name: 'Message options' }).click();
		expect(await bob.page.getByRole('menuitem', { name: 'Delete for everyone' }).count()).toBe(0);
		await bob.page.getByRole('menuitem', { name: 'Delete for me' }).click();
		await expect.poll(() => messageLog(bob).getByText('Hello Bob.').count(), { timeout: 10_000 }).toBe(0);
		// The other side keeps theirs.
		expect(await messageLog(alice).getByText('Hello Bob.').count()).toBe(1);
		expect(alice.errors).toEqual([]);
		expect(bob.errors).toEqual([]);
	});

	it('a "5 minutes" timer (shortened by the hub config) shows on both sides and removes the message from both', async () => {
		await alice.page.getByRole('button', { name: 'Details' }).click();
		await alice.page.getByLabel('Disappearing messages').selectOption('5m');
		await messageLog(alice)
			.getByText('You set disappearing messages to 5 minutes')
			.waitFor({ timeout: 15_000 });
		await messageLog(bob)
			.getByText(`${alice.name} set disappearing messages to 5 minutes`)
			.waitFor({ timeout: 15_000 });
		await bob.page.getByText('Disappearing: 5 minutes').waitFor({ timeout: 15_000 });

		const text = 'This will not last';
		await send(alice, text);
		for (const person of [alice, bob]) {
			await row(person, text)
				.and(person.page.locator('[data-disappearing="true"]'))
				.waitFor({ timeout: 15_000 });
		}
		const shownAt = Date.now();
		const id = await row(bob, text).getAttribute('data-id');
		// Bob has it open: it is read, and both copies go once the timer has run.
		for (const person of [alice, bob]) {
			await row(person, text).waitFor({ state: 'detached', timeout: (FIVE_MINUTES_IN_TEST_S + 20) * 1000 });
		}
		expect(Date.now() - shownAt).toBeGreaterThanOrEqual((FIVE_MINUTES_IN_TEST_S - 2) * 1000);
		// Gone from IndexedDB too, not only from the screen (its id is kept only among the removed ones).
		for (const person of [alice, bob]) {
			const stores = JSON.parse(await dumpDatabase(person.page, `hourglass-${person.name}`)) as Record<
				string,
				{ id?: string }[]
			>;
			expect(stores.messages.find((m) => m.id === id)).toBeUndefined();
			expect(stores.gone.find((m) => m.id === id)).toBeDefined();
		}
		// Alice's list falls back to the timer line once the message is gone.
		await expect
			.poll(() => alice.page.locator(`[data-peer="${bob.name}"] .preview`).textContent(), { timeout: 10_000 })
			.toContain('You set disappearing messages to 5 minutes');
		// A reload syncs again from before the cursor (the overlap), while the hub still holds the
		// envelope (its sweep has not come yet): the removed message does not come back.
		await bob.page.reload();
		await bob.page.locator('[data-connection="online"]').waitFor({ timeout: 30_000 });
		await messageLog(bob)
			.getByText(`${alice.name} set disappearing messages to 5 minutes`)
			.waitFor({ timeout: 30_000 });
		await send(bob, 'marker after the reload');
		await row(alice, 'marker after the reload').waitFor({ timeout: 15_000 });
		expect(await messageLog(bob).getByText(text).count()).toBe(0);
		expect(alice.errors).toEqual([]);
		expect(bob.errors).toEqual([]);
	});
});
