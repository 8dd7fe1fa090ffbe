import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	DESKTOP,
	addContact,
	firstMessage,
	launchChromium,
	messageLog,
	openPerson,
	register,
	screenshot,
	send,
	toLocalInput,
	uniqueName,
	type Person,
} from './support';

let hub: TestHub;
let browser: Browser;
let alice: Person;
let bob: Person;

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_convo_time' });
	browser = await launchChromium();
	alice = await openPerson(browser, hub.url, uniqueName('alice'), DESKTOP);
	bob = await openPerson(browser, hub.url, uniqueName('bob'), DESKTOP);
	await register(alice);
	await register(bob);
	await addContact(alice, bob.name);
	await addContact(bob, alice.name);
	await firstMessage(alice, bob, 'First, before any lock.', timeline);
}, 120_000);

afterAll(async () => {
	await browser?.close();
	await hub?.stop();
});

/** The conversation's timeline: the messages in their places, without the sealed section. */
function timeline(person: Person) {
	return messageLog(person).locator('ol.messages');
}

/** The section apart from the timeline that holds what is still sealed. */
function sealedSection(person: Person) {
	return person.page.getByRole('region', { name: 'Sealed until their time' });
}

/** The texts of the timeline's messages, top to bottom. */
async function timelineTexts(person: Person): Promise<string[]> {
	return timeline(person)
		.locator('li p.text')
		.evaluateAll((nodes) => nodes.map((n) => (n.textContent ?? '').trim()));
}

/** Alice locks `text` through the composer's picker, announced; resolves with the unlock time once stored. */
async function lock(text: string, secondsAhead: number): Promise<number> {
	const page = alice.page;
	const unlockAt = Math.ceil((Date.now() + secondsAhead * 1000) / 1000) * 1000;
	await page.getByRole('button', { name: 'Lock until…' }).click();
	await page.getByRole('button', { name: 'Custom' }).click();
	await page.getByLabel(/Unlock date and time/).fill(toLocalInput(unlockAt));
	await page.getByLabel(/Announce: /).setChecked(true);
	await send(alice, text);
	await sealedSection(alice)
		.locator('li[data-status="sent"][data-timelocked="locked"]', { hasText: text })
		.waitFor({ timeout: 10_000 });
	return unlockAt;
}

describe('time-locks in their place', () => {
	it('shows a lock apart while sealed, then at its unlock place for both, after messages sent before it opened', async () => {
		const text = 'Locked: opens after the next message.';
		const unlockAt = await lock(text, 12);

		// Sealed: in its own section for both, in none of the timelines.
		await sealedSection(bob).locator('li[data-status="sealed"]').waitFor({ timeout: 10_000 });
		expect(await sealedSection(bob).textContent()).toContain(`Sealed message from ${alice.name}`);
		expect(await timeline(alice).getByText(text).count()).toBe(0);
		expect(await timeline(bob).locator('li[data-status="sealed"]').count()).toBe(0);
		expect(
			await sealedSection(alice)
				.getByRole('button', { name: /^Cancel/ })
				.count(),
		).toBe(1);

		// Written after the lock, before it opens: above it once it has opened.
		await send(alice, 'Sent while the lock was sealed.');
		await timeline(bob).getByText('Sent while the lock was sealed.').waitFor({ timeout: 10_000 });

		// The list previews the latest message shown, never the sealed one.
		for (const [person, peer] of [
			[alice, bob.name],
			[bob, alice.name],
		] as const) {
			const preview = person.page.locator(`[data-peer="${peer}"] .preview`);
			await expect
				.poll(() => preview.textContent(), { timeout: 10_000 })
				.toContain('Sent while the lock was sealed.');
			expect(await preview.textContent()).not.toMatch(/Sealed|Locked:/);
		}
		await screenshot(alice, 'convo-sealed-section.png');

		for (const person of [alice, bob]) {
			await timeline(person)
				.locator('li[data-timelocked="unlocked"]', { hasText: text })
				.waitFor({ timeout: 30_000 });
			await sealedSection(person).waitFor({ state: 'detached', timeout: 10_000 });
		}
		expect(Date.now()).toBeGreaterThanOrEqual(unlockAt);
		// Opened by the clock with nothing written: the sender's list now previews it, the latest shown.
		await expect
			.poll(() => alice.page.locator(`[data-peer="${bob.name}"] .preview`).textContent(), { timeout: 10_000 })
			.toContain(`You: ${text}`);
		await send(alice, 'Sent after the unlock.');
		for (const person of [alice, bob]) {
			await timeline(person).getByText('Sent after the unlock.').waitFor({ timeout: 10_000 });
			expect(await timelineTexts(person)).toEqual([
				'First, before any lock.',
				'Sent while the lock was sealed.',
				text,
				'Sent after the unlock.',
			]);
		}
		// Once open, the lock is what the list may preview (here the message after it).
		await expect
			.poll(() => bob.page.locator(`[data-peer="${alice.name}"] .preview`).textContent(), { timeout: 10_000 })
			.toContain('Sent after the unlock.');
	});

	it('a cancelled lock reads as cancelled for both, where it was sent, and never as a message', async () => {
		const text = 'Locked, then cancelled.';
		await lock(text, 300);
		await sealedSection(bob).locator('li[data-status="sealed"]').waitFor({ timeout: 10_000 });
		await send(alice, 'Sent after the cancelled lock.');
		await timeline(bob).getByText('Sent after the cancelled lock.').waitFor({ timeout: 10_000 });

		alice.page.once('dialog', (dialog) => void dialog.accept());
		await sealedSection(alice)
			.getByRole('button', { name: /^Cancel/ })
			.click();

		const mine = timeline(alice).locator('li[data-status="cancelled"]');
		await mine.waitFor({ timeout: 10_000 });
		expect((await mine.textContent())?.trim()).toContain('You cancelled this time-locked message');
		expect(await mine.textContent()).not.toMatch(/Sent|Locked|unlocks/);
		// The sealed item goes once the lock list is refreshed after the cancel.
		await expect.poll(() => messageLog(alice).getByText(text).count(), { timeout: 10_000 }).toBe(0);

		const theirs = timeline(bob).locator('li[data-status="cancelled"]');
		await theirs.waitFor({ timeout: 10_000 });
		expect(await theirs.textContent()).toContain(`${alice.name} cancelled a time-locked message`);
		for (const person of [alice, bob]) {
			await sealedSection(person).waitFor({ state: 'detached', timeout: 10_000 });
			// Placed where it was sent: before the message sent after it, not at an unlock that never comes.
			const texts = await timelineTexts(person);
			const cancelledAt = texts.findIndex(
				(t) => t.includes('cancelled') && t.includes('time-locked message'),
			);
			expect(cancelledAt, texts.join(' | ')).toBe(texts.indexOf('Sent after the cancelled lock.') - 1);
		}
		await screenshot(alice, 'convo-cancelled.png');
	});

	it('raised no error in either browser', () => {
		expect(alice.errors).toEqual([]);
		expect(bob.errors).toEqual([]);
	});
});
