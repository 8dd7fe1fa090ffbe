import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestHub, type TestHub } from '../helpers/hub';
import { newUser, uniqueName as sdkName, type TestClient } from '../helpers/users';
import {
	DESKTOP,
	PASSWORD,
	PHONE,
	SCREENSHOTS,
	addContact,
	launchChromium,
	messageLog,
	openPerson,
	register,
	uniqueName,
	type Person,
} from './support';

let hub: TestHub;
let browser: Browser;
let user: Person;
let bob: TestClient;

interface Target {
	/** Text the focused element must hold. */
	text?: string;
	/** Text its list item must hold (a button in one item of a list). */
	inItem?: string;
}

function focused(page: Page, selector: string, target: Target = {}): Promise<boolean> {
	return page.evaluate(
		({ selector, text, inItem }) => {
			const el = document.activeElement;
			if (!el?.matches(selector)) return false;
			if (text !== undefined && !el.textContent?.includes(text)) return false;
			return inItem === undefined || (el.closest('li')?.textContent?.includes(inItem) ?? false);
		},
		{ selector, ...target },
	);
}

/** Presses Tab (or Shift+Tab) until the element matching `selector` has focus, as a keyboard user would. */
async function tabTo(
	page: Page,
	selector: string,
	options: Target & { backwards?: boolean } = {},
): Promise<void> {
	for (let presses = 1; presses <= 60; presses++) {
		await page.keyboard.press(options.backwards ? 'Shift+Tab' : 'Tab');
		if (await focused(page, selector, options)) return;
	}
	throw new Error(`Tab never reached ${selector} ${JSON.stringify(options)}`);
}

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_keyboard' });
	browser = await launchChromium();
	bob = await newUser(hub.url, sdkName('bob'));
	// The account exists and knows Bob, from another browser; this one signs in by keyboard.
	const setup = await openPerson(browser, hub.url, uniqueName('keys'), DESKTOP);
	await register(setup);
	await addContact(setup, bob.username);
	await bob.messenger.send(setup.name, 'Hello from Bob');
	await setup.page.locator(`[data-peer="${bob.username}"]`).waitFor({ timeout: 30_000 });
	await setup.context.close();
	user = await openPerson(browser, hub.url, setup.name, DESKTOP);
});

afterAll(async () => {
	bob?.close();
	await browser?.close();
	await hub?.stop();
});

describe('the app with the keyboard alone', () => {
	it('signs in, opens a conversation, sends, locks a message with the picker and cancels it', async () => {
		const page = user.page;
		await page.goto('/');
		await page.getByLabel('Username', { exact: true }).waitFor({ timeout: 30_000 });
		if (!(await focused(page, '#username'))) await tabTo(page, '#username');
		await page.keyboard.type(user.name);
		await tabTo(page, '#password');
		await page.keyboard.type(PASSWORD);
		await page.keyboard.press('Enter');
		await page.waitForURL('**/chat', { timeout: 30_000 });
		await page.locator('[data-connection="online"]').waitFor({ timeout: 15_000 });

		// The page that opened has focus (its heading), so a screen reader names it.
		await expect.poll(() => focused(page, 'main h1'), { timeout: 10_000 }).toBe(true);

		// The chat list comes before the page's heading: back up to Bob's conversation.
		await tabTo(page, `[data-peer="${bob.username}"] a`, { backwards: true });
		await page.keyboard.press('Enter');
		await page.waitForURL(`**/chat/${bob.username}`);
		await messageLog(user).getByText('Hello from Bob').waitFor({ timeout: 15_000 });
		await expect.poll(() => focused(page, 'main h1'), { timeout: 10_000 }).toBe(true);

		// The skip link is the first stop of the page and leads to the message box.
		const first = await page.evaluate(
			() =>
				document.querySelector<HTMLElement>('a[href], button, input, textarea, select, summary')?.className,
		);
		expect(first).toContain('skip');
		await tabTo(page, 'a.skip', { backwards: true });
		expect(await page.locator('a.skip').isVisible()).toBe(true);
		await page.keyboard.press('Enter');
		expect(await focused(page, '#composer-text')).toBe(true);

		await page.keyboard.type('Sent with the keyboard');
		await page.keyboard.press('Enter');
		await messageLog(user)
			.locator('li[data-status="sent"], li[data-status="delivered"]', { hasText: 'Sent with the keyboard' })
			.waitFor({ timeout: 15_000 });

		// Lock: the toggle before the box opens the picker; "In a week", then back to the box.
		await tabTo(page, 'button[aria-controls="lock-picker"]', { backwards: true });
		await page.keyboard.press('Enter');
		await page.locator('#lock-picker').waitFor();
		await tabTo(page, '#lock-picker button', { text: 'In a week', backwards: true });
		await page.keyboard.press('Enter');
		await tabTo(page, '#composer-text');
		await page.keyboard.type('Locked with the keyboard');
		await page.keyboard.press('Enter');
		const locked = messageLog(user).locator('li[data-timelocked="locked"]', {
			hasText: 'Locked with the keyboard',
		});
		await locked.waitFor({ timeout: 15_000 });

		// Cancel it from the Sealed page, reached from the main navigation.
		await tabTo(page, 'nav[aria-label="Main"] a[href$="/sealed"]', { backwards: true });
		await page.keyboard.press('Enter');
		await page.waitForURL('**/sealed');
		const item = page.locator('li', { hasText: 'Locked with the keyboard' });
		await item.waitFor({ timeout: 15_000 });
		await tabTo(page, 'button', { text: 'Cancel', inItem: 'Locked with the keyboard' });
		// The browser's own confirmation, answered with Enter as a keyboard user does.
		// (accepted in the handler: the page waits on it, and so does the key press).
		let confirmed = false;
		page.once('dialog', (dialog) => {
			confirmed = true;
			void dialog.accept();
		});
		await page.keyboard.press('Enter');
		expect(confirmed).toBe(true);
		await item.waitFor({ state: 'detached', timeout: 15_000 });
		expect(user.errors).toEqual([]);
	});

	it('opens search with Ctrl+K and with /, never while typing a message', async () => {
		const page = user.page;
		await page.keyboard.press('Control+k');
		await page.waitForURL('**/search');
		await expect.poll(() => focused(page, '#search-input')).toBe(true);
		await page.goBack();
		await page.waitForURL('**/sealed');
		await expect.poll(() => focused(page, 'main h1')).toBe(true);
		await page.keyboard.press('/');
		await page.waitForURL('**/search');
		await page.goBack();
		await page.goBack();
		await page.waitForURL(`**/chat/${bob.username}`);
		await tabTo(page, '#composer-text');
		await page.keyboard.type('a/b');
		expect(page.url()).toContain(`/chat/${bob.username}`);
		expect(await page.locator('#composer-text').inputValue()).toBe('a/b');
	});
});

describe('toasts', () => {
	it('never cover the Details button at 1280 px nor the open account menu at 360 px', async () => {
		const page = user.page;
		/** Whether the centre of every element matching `selector` is the element itself (nothing on top). */
		const uncovered = (selector: string) =>
			page.evaluate((s) => {
				const els = [...document.querySelectorAll<HTMLElement>(s)];
				return (
					els.length > 0 &&
					els.every((el) => {
						const box = el.getBoundingClientRect();
						const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
						return top !== null && (top === el || el.contains(top));
					})
				);
			}, selector);

		await page.keyboard.press('Control+k');
		await page.waitForURL('**/search');
		await page.goBack();
		await page.waitForURL(`**/chat/${bob.username}`);
		// A conversation not on screen: a toast.
		const carol = await newUser(hub.url, sdkName('carol'));
		await carol.messenger.send(user.name, 'A toast from Carol');
		const toast = page.getByRole('status').filter({ hasText: 'A toast from Carol' });
		await toast.waitFor({ timeout: 15_000 });
		expect(await uncovered('.head button[aria-controls="conversation-details"]')).toBe(true);
		await page.screenshot({ path: `${SCREENSHOTS}/toast-1280.png` });

		await page.setViewportSize(PHONE);
		await page.locator('summary[aria-label^="Account menu"]').click();
		await page.locator('.menu-body').waitFor();
		// A toast goes after 7 s: a fresh one, arriving while the menu is open, is the case to check.
		await carol.messenger.send(user.name, 'Another toast from Carol');
		await page
			.getByRole('status')
			.filter({ hasText: 'Another toast from Carol' })
			.waitFor({ timeout: 15_000 });
		expect(await uncovered('.menu-body > *')).toBe(true);
		carol.close();
	});
});

describe('the language switch', () => {
	it('is reached and used with the keyboard alone, and keeps the focus as every text changes', async () => {
		const page = user.page;
		await page.setViewportSize(DESKTOP);
		await tabTo(page, 'summary[aria-label^="Account menu"]');
		// The test before left the menu open; Enter opens it only when it is closed.
		if (!(await page.locator('details.menu').evaluate((menu) => (menu as HTMLDetailsElement).open))) {
			await page.keyboard.press('Enter');
		}
		await tabTo(page, 'a[href$="/settings"]');
		await page.keyboard.press('Enter');
		await page.waitForURL('**/settings');
		await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
		await tabTo(page, '#language-choice');
		expect(await page.locator('#language-choice').inputValue()).toBe('system');

		// Down from "System (English)": English, then Français; each step applies at once.
		await page.keyboard.press('ArrowDown');
		await page.keyboard.press('ArrowDown');
		await page.getByRole('heading', { name: 'Réglages', level: 1 }).waitFor({ timeout: 5_000 });
		expect(await page.evaluate(() => document.documentElement.lang)).toBe('fr');
		expect(await focused(page, '#language-choice')).toBe(true);
		expect(await page.getByLabel('Langue de l’application').inputValue()).toBe('fr');

		// And back to the browser's language, still from the keyboard, still in place.
		await page.keyboard.press('ArrowUp');
		await page.keyboard.press('ArrowUp');
		await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor({ timeout: 5_000 });
		expect(await page.locator('#language-choice').inputValue()).toBe('system');
		expect(await focused(page, '#language-choice')).toBe(true);
		// The next Tab goes on from the switch, not from the top of the page.
		await page.keyboard.press('Tab');
		expect(
			await page.evaluate(() => {
				const select = document.querySelector('#language-choice');
				const now = document.activeElement;
				return !!select && !!now && now !== document.body && !!(select.compareDocumentPosition(now) & 4);
			}),
		).toBe(true);
		expect(user.errors).toEqual([]);
	});
});
