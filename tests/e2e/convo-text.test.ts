import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestHub, type TestHub } from '../helpers/hub';
import { LIMITS } from '../../src/lib/protocol';
import { formatBytes } from '../../src/lib/client/strings';
import {
	DESKTOP,
	PHONE,
	addContact,
	firstMessage,
	launchChromium,
	messageLog,
	openConversation,
	openPerson,
	register,
	screenshot,
	send,
	uniqueName,
	type Person,
} from './support';

let hub: TestHub;
let browser: Browser;
let alice: Person;
let bob: Person;

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_convo_text' });
	browser = await launchChromium();
	alice = await openPerson(browser, hub.url, uniqueName('alice'), DESKTOP);
	bob = await openPerson(browser, hub.url, uniqueName('bob'), PHONE);
	await alice.context.grantPermissions(['clipboard-read', 'clipboard-write']);
	await register(alice);
	await register(bob);
	await addContact(alice, bob.name);
	await addContact(bob, alice.name);
	await firstMessage(alice, bob, 'Hello from the text tests.');
}, 120_000);

afterAll(async () => {
	await browser?.close();
	await hub?.stop();
});

function field(person: Person) {
	return person.page.getByLabel('Message', { exact: true });
}

/** Puts `text` on Alice's clipboard and pastes it into the message field with the keyboard, as a user does. */
async function paste(text: string): Promise<void> {
	await alice.page.evaluate((t) => navigator.clipboard.writeText(t), text);
	await field(alice).focus();
	await alice.page.keyboard.press('ControlOrMeta+V');
}

/** Bob's row for the message whose text contains `text`. */
function row(person: Person, text: string) {
	return messageLog(person).locator('ol.messages > li', { hasText: text });
}

describe('text as people write it', () => {
	it('lays right-to-left text out right to left, in the message and in the field', async () => {
		const hebrew = 'שלום, מה שלומך היום?';
		await send(alice, hebrew);
		const text = row(bob, hebrew).locator('p.text');
		await text.waitFor({ timeout: 10_000 });
		expect(await text.getAttribute('dir')).toBe('auto');
		expect(await text.evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
		expect(await field(alice).getAttribute('dir')).toBe('auto');
		await field(alice).fill('مرحبا');
		expect(await field(alice).evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
		await field(alice).fill('');
		// The list preview of the other side follows the text's own direction too.
		expect(await alice.page.locator(`[data-peer="${bob.name}"] .preview`).getAttribute('dir')).toBe('auto');
	});

	it('makes http, https and mailto links real anchors from text, and never javascript: or markup', async () => {
		const message =
			'Read https://example.org/docs?a=1 or write to mailto:help@example.org, not javascript:alert(1) <b>bold</b> <a href="https://evil.test">x</a>';
		await send(alice, message);
		const item = row(bob, 'Read https://example.org/docs');
		await item.waitFor({ timeout: 10_000 });
		const anchors = await item.locator('p.text a').evaluateAll((nodes) =>
			nodes.map((a) => ({
				href: a.getAttribute('href'),
				rel: a.getAttribute('rel'),
				target: a.getAttribute('target'),
				text: a.textContent,
			})),
		);
		expect(anchors).toEqual([
			{
				href: 'https://example.org/docs?a=1',
				rel: 'noopener noreferrer',
				target: '_blank',
				text: 'https://example.org/docs?a=1',
			},
			{
				href: 'mailto:help@example.org',
				rel: 'noopener noreferrer',
				target: '_blank',
				text: 'mailto:help@example.org',
			},
			// The address inside the written-out tag is text that looks like a link: linked as text, the tag stays text.
			{ href: 'https://evil.test/', rel: 'noopener noreferrer', target: '_blank', text: 'https://evil.test' },
		]);
		expect(await item.locator('b').count()).toBe(0);
		expect(await item.locator('a[href^="javascript"]').count()).toBe(0);
		expect((await item.locator('p.text').textContent())?.trim()).toBe(message);
	});

	it('shows a counter near the limit, announced politely, and sends nothing over it', async () => {
		const counter = alice.page.locator('#composer-count');
		await field(alice).fill('abc');
		expect(await counter.getAttribute('data-length')).toBe('3');
		expect(await counter.getAttribute('data-state')).toBe('ok');
		expect(await field(alice).getAttribute('aria-describedby')).toBe('composer-count');
		const status = alice.page.locator('form.composer [role="status"]');
		expect((await status.textContent())?.trim()).toBe('');

		await field(alice).fill('y'.repeat(LIMITS.textMaxChars - 10));
		expect(await counter.getAttribute('data-state')).toBe('near');
		expect((await status.textContent())?.trim()).toBe('10 characters left');

		// Typed (not pasted) past the limit: Send asks instead of sending, and keeps every character.
		await field(alice).fill('y'.repeat(LIMITS.textMaxChars + 5));
		expect(await counter.getAttribute('data-state')).toBe('over');
		expect((await status.textContent())?.trim()).toBe('5 characters over the limit of 16,000');
		await field(alice).press('Enter');
		const dialog = alice.page.getByRole('dialog', { name: 'Too long for one message' });
		await dialog.waitFor({ timeout: 5_000 });
		await dialog.getByRole('button', { name: 'Cancel' }).click();
		await dialog.waitFor({ state: 'hidden' });
		expect(await field(alice).inputValue()).toHaveLength(LIMITS.textMaxChars + 5);
		await field(alice).fill('');
	});

	it('an over-limit paste is not cut: Cancel leaves the field as it was', async () => {
		await field(alice).fill('Kept as typed. ');
		await paste('z'.repeat(100_000));
		const dialog = alice.page.getByRole('dialog', { name: 'Too long for one message' });
		await dialog.waitFor({ timeout: 5_000 });
		expect((await dialog.textContent())?.replace(/\s+/g, ' ')).toContain(
			'The text you pasted makes 100,015 characters',
		);
		expect(await field(alice).inputValue()).toBe('Kept as typed. ');
		await alice.page.keyboard.press('Escape');
		await dialog.waitFor({ state: 'hidden' });
		expect(await field(alice).inputValue()).toBe('Kept as typed. ');
		// A paste that fits is an ordinary paste.
		await paste('short');
		await expect.poll(() => field(alice).inputValue()).toBe('Kept as typed. short');
		await field(alice).fill('');
	});

	it('an over-limit paste sent as a file arrives whole, as a .txt file', async () => {
		const long = `${'Long text line, with ünïcödé. '.repeat(1_000)}END`;
		const bytes = new TextEncoder().encode(long).length;
		await paste(long);
		const dialog = alice.page.getByRole('dialog', { name: 'Too long for one message' });
		await dialog.waitFor({ timeout: 5_000 });
		expect(await dialog.locator('[data-length]').getAttribute('data-length')).toBe(String(long.length));
		await dialog.getByRole('button', { name: 'Send as a file' }).click();
		await dialog.waitFor({ state: 'hidden', timeout: 30_000 });
		expect(await field(alice).inputValue()).toBe('');
		for (const person of [alice, bob]) {
			const file = messageLog(person).locator('li [data-file]', {
				hasText: /message-\d{4}-\d\d-\d\d-\d{4}\.txt/,
			});
			await file.waitFor({ timeout: 20_000 });
			expect(await file.textContent()).toContain(formatBytes(bytes));
		}
	});

	it('Escape closes the lock picker and gives focus back to its button', async () => {
		const toggle = alice.page.getByRole('button', { name: 'Lock until…' });
		await toggle.click();
		const picker = alice.page.locator('#lock-picker');
		await picker.waitFor();
		await alice.page.getByRole('button', { name: 'In a week' }).focus();
		await alice.page.keyboard.press('Escape');
		await picker.waitFor({ state: 'detached' });
		expect(await alice.page.evaluate(() => document.activeElement?.getAttribute('aria-controls'))).toBe(
			'lock-picker',
		);
		expect(await toggle.getAttribute('aria-expanded')).toBe('false');
	});

	it('announces a new incoming message in a polite live region, not the history', async () => {
		const announcer = bob.page.locator('[data-announcer]');
		expect(await announcer.getAttribute('role')).toBe('status');
		// The history itself is not a live region: scrolling through it reads nothing out.
		expect(await messageLog(bob).getAttribute('aria-live')).toBe('off');
		await send(alice, 'Ping <i>for</i> the live region.');
		await expect
			.poll(() => announcer.textContent(), { timeout: 10_000 })
			.toBe(`New message from ${alice.name}: Ping <i>for</i> the live region.`);
		expect(await announcer.locator('i').count()).toBe(0);
		// While the app is hidden, nothing is said (the message is there when the reader comes back).
		await bob.page.evaluate(() =>
			Object.defineProperty(document, 'visibilityState', { get: () => 'hidden', configurable: true }),
		);
		await send(alice, 'Sent while the app was hidden.');
		await messageLog(bob).getByText('Sent while the app was hidden.').waitFor({ timeout: 10_000 });
		await bob.page.evaluate(() => new Promise((done) => requestAnimationFrame(() => done(null))));
		expect(await announcer.textContent()).toBe(
			`New message from ${alice.name}: Ping <i>for</i> the live region.`,
		);
		await bob.page.evaluate(() => {
			delete (document as { visibilityState?: unknown }).visibilityState;
		});
		expect(await bob.page.evaluate(() => document.visibilityState)).toBe('visible');
		// Reopening the conversation announces nothing of what is already there.
		await bob.page.goBack();
		await openConversation(bob, alice.name);
		await messageLog(bob).getByText('Ping <i>for</i> the live region.').waitFor();
		expect(await bob.page.locator('[data-announcer]').textContent()).toBe('');
	});

	it('scrolls the history with PageUp, PageDown, Home and End once it has focus', async () => {
		for (let i = 1; i <= 24; i++) await send(alice, `Filler message ${i} to make the history scroll.`);
		await messageLog(bob).getByText('Filler message 24 to make').waitFor({ timeout: 20_000 });
		const log = messageLog(bob);
		expect(await log.getAttribute('tabindex')).toBe('0');
		const top = () => log.evaluate((el) => el.scrollTop);
		const bottom = () => log.evaluate((el) => el.scrollHeight - el.clientHeight);
		await expect.poll(async () => (await bottom()) - (await top()), { timeout: 5_000 }).toBeLessThan(2);
		await log.focus();
		const before = await top();
		await bob.page.keyboard.press('PageUp');
		await expect.poll(top, { timeout: 5_000 }).toBeLessThan(before - 100);
		await bob.page.keyboard.press('PageDown');
		await expect.poll(top, { timeout: 5_000 }).toBeGreaterThan(before - 100);
		await bob.page.keyboard.press('Home');
		await expect.poll(top, { timeout: 5_000 }).toBeLessThan(50);
		await bob.page.keyboard.press('End');
		await expect.poll(async () => (await bottom()) - (await top()), { timeout: 5_000 }).toBeLessThan(2);
	});

	// Looked at by eye (a font missing here shows as empty boxes): see .ci/run for the fonts CI installs.
	it('shows right-to-left, CJK and emoji text at 360 and 1280 px', async () => {
		const lines = [
			'مرحبا بالعالم — שלום עולם',
			'漢字かな交じり文、你好世界、한국어',
			'Party 🎉😀👍🏽 https://example.org',
		];
		for (const line of lines) await send(alice, line);
		for (const person of [alice, bob]) {
			await row(person, 'Party').waitFor({ timeout: 10_000 });
		}
		await screenshot(bob, 'convo-text-mobile.png');
		await screenshot(alice, 'convo-text-desktop.png');
	});

	it('raised no error in either browser', () => {
		expect(alice.errors).toEqual([]);
		expect(bob.errors).toEqual([]);
	});
});
