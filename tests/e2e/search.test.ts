import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestHub, type TestHub } from '../helpers/hub';
import { newUser, uniqueName as sdkName, type TestClient } from '../helpers/users';
import {
	DESKTOP,
	PHONE,
	addContact,
	launchChromium,
	messageLog,
	openPerson,
	register,
	screenshot,
	uniqueName,
	type Person,
} from './support';

let hub: TestHub;
let browser: Browser;
let reader: Person;
let bob: TestClient;
let carol: TestClient;
/** Every text the reader's page sent over its sockets, to show that no query ever leaves the browser. */
const framesSent: string[] = [];
/** The first of Bob's seeded messages: far above the 50 rows a conversation opens with. */
let oldestId = '';
let hostileId = '';

/** Sends the texts one after another (the hub orders them as sent). */
async function sendAll(from: TestClient, to: string, texts: string[]): Promise<string[]> {
	const ids: string[] = [];
	for (const text of texts) ids.push((await from.messenger.send(to, text)).envelope.id);
	return ids;
}

function results() {
	return reader.page.getByRole('main').locator('li[data-id]');
}

async function searchFor(query: string): Promise<void> {
	const field = reader.page.getByLabel('Words to find');
	await field.fill(query);
}

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_search' });
	browser = await launchChromium();
	bob = await newUser(hub.url, sdkName('bob'));
	carol = await newUser(hub.url, sdkName('carol'));
	reader = await openPerson(browser, hub.url, uniqueName('reader'), DESKTOP);
	reader.page.on('websocket', (ws) => ws.on('framesent', (frame) => framesSent.push(String(frame.payload))));
	reader.page.on('request', (request) => framesSent.push(request.url() + (request.postData() ?? '')));
	await register(reader);
	await addContact(reader, bob.username);
	await addContact(reader, carol.username);

	// A seeded history: 240 messages from Bob, the oldest one distinctive, and a few from Carol.
	const filler = Array.from({ length: 239 }, (_, i) => `filler line ${i} about nothing much`);
	const bobIds = await sendAll(bob, reader.name, [
		'The zeppelin lands at the old airfield on Friday',
		...filler,
		'<img src=x onerror="document.title=1"> quokka',
	]);
	oldestId = bobIds[0];
	hostileId = bobIds.at(-1) ?? '';
	await sendAll(carol, reader.name, ['Zeppelin tickets are sold out', 'See you at the café']);
	await reader.page.locator(`[data-peer="${carol.username}"]`).waitFor({ timeout: 30_000 });
	await reader.page.locator(`[data-peer="${bob.username}"]`).getByText('quokka').waitFor({ timeout: 30_000 });
});

afterAll(async () => {
	bob?.close();
	carol?.close();
	await browser?.close();
	await hub?.stop();
});

describe('search over the local history', () => {
	it('is reached from the chat list with Ctrl+K, its field focused', async () => {
		await reader.page.keyboard.press('Control+k');
		await reader.page.waitForURL('**/search');
		await expect
			.poll(() => reader.page.evaluate(() => document.activeElement?.id), { timeout: 10_000 })
			.toBe('search-input');
	});

	it('finds a word across conversations, grouped by conversation, the match marked', async () => {
		await searchFor('zeppelin');
		await expect.poll(() => results().count(), { timeout: 15_000 }).toBe(2);
		const main = reader.page.getByRole('main');
		await expect.poll(() => main.getByRole('heading', { level: 2 }).allInnerTexts()).toHaveLength(2);
		const headings = await main.getByRole('heading', { level: 2 }).allInnerTexts();
		expect(headings.join(' ')).toContain(bob.username);
		expect(headings.join(' ')).toContain(carol.username);
		expect((await main.locator('mark').allInnerTexts()).sort()).toEqual(['Zeppelin', 'zeppelin']);
		await expect.poll(() => main.getByRole('status').innerText()).toBe('2 messages in 2 conversations.');
		await screenshot(reader, 'search-1280.png');
	});

	it('matches as typed (a prefix), without case or accents, every word required', async () => {
		await searchFor('CAFE');
		await expect
			.poll(() => results().allInnerTexts(), { timeout: 10_000 })
			.toEqual([expect.stringContaining('See you at the café')]);
		await searchFor('zeppelin airf');
		await expect.poll(() => results().count()).toBe(1);
		await searchFor('zeppelin nowhere');
		await expect
			.poll(() => reader.page.getByRole('main').getByRole('status').innerText())
			.toBe('No messages match “zeppelin nowhere”.');
	});

	it('shows a message that looks like HTML as text', async () => {
		await searchFor('quokka');
		await expect.poll(() => results().count(), { timeout: 10_000 }).toBe(1);
		expect(await results().first().innerText()).toContain('<img src=x onerror="document.title=1"> quokka');
		expect(await reader.page.getByRole('main').locator('img').count()).toBe(0);
		expect(await reader.page.title()).not.toBe('1');
	});

	it('opens the conversation scrolled to an old message, focused', async () => {
		await searchFor('airfield');
		await results().first().getByRole('link').click();
		await reader.page.waitForURL(`**/chat/${bob.username}?m=*`);
		const row = messageLog(reader).locator(`li[data-id="${oldestId}"]`);
		await row.waitFor({ timeout: 15_000 });
		await expect.poll(() => row.getAttribute('data-found'), { timeout: 10_000 }).toBe('');
		await expect
			.poll(() => reader.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.id))
			.toBe(oldestId);
		expect(await row.isVisible()).toBe(true);
		const inView = await row.evaluate((el) => {
			const box = el.getBoundingClientRect();
			const log = el.closest('[role="log"]')?.getBoundingClientRect();
			return !!log && box.top >= log.top && box.bottom <= log.bottom;
		});
		expect(inView).toBe(true);
	});

	it('drops a message its sender deleted for everyone', async () => {
		await bob.messenger.deleteForEveryone(hostileId);
		await reader.page
			.locator(`[data-peer="${bob.username}"]`)
			.getByText('Message deleted')
			.waitFor({ timeout: 15_000 });
		await reader.page.keyboard.press('Control+k');
		await reader.page.waitForURL('**/search');
		await searchFor('quokka');
		await expect
			.poll(() => reader.page.getByRole('main').getByRole('status').innerText(), { timeout: 10_000 })
			.toBe('No messages match “quokka”.');
	});

	it('drops a message deleted for me on this device', async () => {
		await reader.page
			.getByRole('navigation', { name: 'Main' })
			.getByRole('link', { name: /^Chats/ })
			.click();
		await reader.page.locator(`[data-peer="${carol.username}"] a`).click();
		await reader.page.waitForURL(`**/chat/${carol.username}`);
		const row = messageLog(reader).locator('li[data-id]', { hasText: 'See you at the café' });
		await row.getByRole('button', { name: 'Message options' }).click();
		await reader.page.getByRole('menuitem', { name: 'Delete for me' }).click();
		await row.waitFor({ state: 'detached', timeout: 15_000 });
		await reader.page.keyboard.press('Control+k');
		await reader.page.waitForURL('**/search');
		await searchFor('café');
		await expect
			.poll(() => reader.page.getByRole('main').getByRole('status').innerText(), { timeout: 10_000 })
			.toBe('No messages match “café”.');
	});

	it('indexes messages that arrive while it is open', async () => {
		await searchFor('marmalade');
		await expect
			.poll(() => reader.page.getByRole('main').getByRole('status').innerText())
			.toContain('No messages match');
		await sendAll(carol, reader.name, ['Bring the marmalade']);
		// The page searches again as the query is typed: the new message is in the index.
		await expect
			.poll(
				async () => {
					await searchFor('marmalad');
					await searchFor('marmalade');
					return results().count();
				},
				{ timeout: 15_000 },
			)
			.toBe(1);
	});

	it('is rebuilt from the stored history after a reload, deletions staying out', async () => {
		await reader.page.reload();
		await reader.page
			.getByRole('heading', { name: 'Search messages', level: 1 })
			.waitFor({ timeout: 30_000 });
		await searchFor('zeppelin');
		await expect.poll(() => results().count(), { timeout: 15_000 }).toBe(2);
		await searchFor('quokka');
		await expect
			.poll(() => reader.page.getByRole('main').getByRole('status').innerText(), { timeout: 10_000 })
			.toBe('No messages match “quokka”.');
	});

	it('never sends a query to the hub', () => {
		// Long words only: a short one could turn up by chance in the base64 of a ciphertext.
		for (const word of ['zeppelin', 'quokka', 'marmalad', 'nowhere']) {
			expect(framesSent.filter((f) => f.includes(word))).toEqual([]);
		}
		expect(framesSent.length).toBeGreaterThan(0);
	});

	it('fits a phone', async () => {
		await reader.page.setViewportSize(PHONE);
		await searchFor('zeppelin');
		await expect.poll(() => results().count(), { timeout: 10_000 }).toBe(2);
		await screenshot(reader, 'search-360.png');
		// The way in from the chat list: its field, which carries the query over to this page.
		await reader.page
			.getByRole('navigation', { name: 'Main' })
			.getByRole('link', { name: /^Chats/ })
			.click();
		await reader.page.getByRole('searchbox', { name: 'Search messages' }).fill('zeppelin');
		await screenshot(reader, 'search-entry-360.png');
		await reader.page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
		await reader.page.waitForURL('**/search');
		await expect.poll(() => reader.page.getByLabel('Words to find').inputValue()).toBe('zeppelin');
		await expect.poll(() => results().count(), { timeout: 10_000 }).toBe(2);
		expect(reader.errors).toEqual([]);
	});
});
