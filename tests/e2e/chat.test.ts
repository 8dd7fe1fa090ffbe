import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	DESKTOP,
	PASSWORD,
	PHONE,
	dumpDatabase,
	launchChromium,
	messageLog,
	openConversation,
	openPerson,
	register,
	screenshot,
	send,
	serviceWorkerReady,
	startConversation,
	uniqueName,
	type Person,
} from './support';

let hub: TestHub;
let browser: Browser;
let alice: Person;
let bob: Person;

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_chat' });
	browser = await launchChromium();
	alice = await openPerson(browser, hub.url, uniqueName('alice'), DESKTOP);
	bob = await openPerson(browser, hub.url, uniqueName('bob'), PHONE);
});

afterAll(async () => {
	await browser?.close();
	await hub?.stop();
});

describe('two people in two browsers', () => {
	it('register, find each other and chat both ways live', async () => {
		await register(alice);
		await register(bob);

		await startConversation(alice, bob.name);
		await send(alice, 'Hello Bob, only you can read this.');

		// Bob's list updates live: the conversation appears with its preview and an unread count.
		const row = bob.page.locator(`[data-peer="${alice.name}"]`);
		await row.waitFor({ timeout: 15_000 });
		await expect.poll(() => row.textContent()).toContain('Hello Bob, only you can read this.');
		expect(await row.locator('[data-unread]').getAttribute('data-unread')).toBe('1');

		await openConversation(bob, alice.name);
		await messageLog(bob).getByText('Hello Bob, only you can read this.').waitFor();
		// Alice's copy goes sending → sent → delivered once Bob's device has it.
		await alice.page.locator('[data-status="delivered"]').waitFor({ timeout: 15_000 });

		await send(bob, 'Hi Alice!\nGot it, loud and clear.');
		await messageLog(alice).getByText('Got it, loud and clear.').waitFor({ timeout: 15_000 });
		await bob.page.locator('[data-status="delivered"]').waitFor({ timeout: 15_000 });

		// Text is text: markup a peer sends is shown, never interpreted.
		await send(alice, '<b>not bold</b> <a href="https://example.com">not a link</a>');
		const shown = messageLog(bob).getByText('<b>not bold</b>', { exact: false });
		await shown.waitFor({ timeout: 15_000 });
		expect(await messageLog(bob).locator('b, a[href="https://example.com"]').count()).toBe(0);
	});

	it('shows the same 60-digit safety number on both sides', async () => {
		await alice.page.getByRole('button', { name: 'Details' }).click();
		await bob.page.getByRole('button', { name: 'Details' }).click();
		const a = await alice.page.locator('[data-safety-number]').getAttribute('data-safety-number');
		const b = await bob.page.locator('[data-safety-number]').getAttribute('data-safety-number');
		expect(a).toMatch(/^(\d{5} ){11}\d{5}$/);
		expect(b).toBe(a);
		// The pictures show the conversation itself: the details, now long, would hide it.
		for (const person of [alice, bob]) {
			await person.page.getByRole('button', { name: 'Details' }).click();
			await person.page.locator('#conversation-details').waitFor({ state: 'detached' });
		}
		await screenshot(alice, 'conversation.png');
		await screenshot(bob, 'conversation-mobile.png');
	});

	it('reads the history offline after a reload, and delivers what was written offline', async () => {
		await serviceWorkerReady(bob);
		await bob.context.setOffline(true);
		await bob.page.locator('[data-connection="offline"]').waitFor({ timeout: 10_000 });

		await bob.page.reload();
		await messageLog(bob).getByText('Hello Bob, only you can read this.').waitFor({ timeout: 15_000 });
		await messageLog(bob).getByText('Got it, loud and clear.').waitFor();
		// The app starts its connection once it has opened the history: it may still say `connecting` here.
		await bob.page.locator('[data-connection="offline"]').waitFor({ timeout: 10_000 });

		await send(bob, 'Written on the train, no signal.');
		const pending = bob.page.locator('[data-status="sending"]');
		await pending.waitFor();
		expect(await pending.textContent()).toContain('Written on the train, no signal.');
		await screenshot(bob, 'offline-outbox-mobile.png');

		await bob.context.setOffline(false);
		await messageLog(alice).getByText('Written on the train, no signal.').waitFor({ timeout: 30_000 });
		await bob.page.locator('[data-status="sending"]').waitFor({ state: 'detached', timeout: 15_000 });
		await bob.page
			.locator('li[data-status="delivered"]', { hasText: 'Written on the train, no signal.' })
			.waitFor({ timeout: 15_000 });
		// Delivered once: no duplicate after the reconnect's sync.
		expect(await messageLog(alice).getByText('Written on the train, no signal.').count()).toBe(1);

		// The offline copy is the app itself: nothing the hub answers live was ever cached.
		const cached = await bob.page.evaluate(async () => {
			const urls: string[] = [];
			for (const name of await caches.keys()) {
				for (const request of await (await caches.open(name)).keys())
					urls.push(new URL(request.url).pathname);
			}
			return urls;
		});
		expect(cached).toContain('/index.html');
		expect(cached.filter((path) => /^\/(api|socket\.io|metrics)(\/|$)/.test(path))).toEqual([]);
	});

	it('keeps the history sealed at rest: IndexedDB holds no message text and no secret key', async () => {
		const dump = await dumpDatabase(bob.page, `hourglass-${bob.name}`);
		expect(dump).toContain('"messages"');
		for (const text of [
			'Hello Bob, only you can read this.',
			'Got it, loud and clear.',
			'Written on the train',
		]) {
			expect(dump).not.toContain(text);
		}
		expect(dump).not.toMatch(/signSk|boxSk|localKey|wrapKey/);
	});

	it('is installable: a manifest with a name, start URL, standalone display and 192/512 PNG icons', async () => {
		const response = await alice.page.request.get('/manifest.webmanifest');
		expect(response.ok()).toBe(true);
		const manifest = (await response.json()) as {
			name: string;
			short_name: string;
			start_url: string;
			display: string;
			theme_color: string;
			icons: { src: string; sizes: string; type: string }[];
		};
		expect(manifest).toMatchObject({ short_name: 'Hourglass', start_url: '/', display: 'standalone' });
		expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
		for (const size of [192, 512]) {
			const icon = manifest.icons.find((i) => i.sizes === `${size}x${size}` && i.type === 'image/png');
			expect(icon, `${size} icon`).toBeDefined();
			const png = await (await alice.page.request.get(icon!.src)).body();
			// PNG signature, then the IHDR width and height.
			expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
			expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([size, size]);
		}
	});

	it('reopens straight into the app after a reload; a new tab asks for the password and unlocks offline', async () => {
		await alice.page.reload();
		await messageLog(alice).getByText('Got it, loud and clear.').waitFor({ timeout: 15_000 });

		// sessionStorage is per tab: a second tab of the same browser must unlock first.
		const tab = await alice.context.newPage();
		await tab.goto('/');
		await tab.getByRole('button', { name: 'Unlock' }).waitFor({ timeout: 15_000 });
		await tab.getByLabel('Password', { exact: true }).fill('not the password at all');
		await tab.getByRole('button', { name: 'Unlock' }).click();
		await tab.getByRole('alert').getByText('Wrong').waitFor({ timeout: 15_000 });

		// The right password opens the sealed keys and history with no network at all.
		await alice.context.setOffline(true);
		await tab.getByLabel('Password', { exact: true }).fill(PASSWORD);
		await tab.getByRole('button', { name: 'Unlock' }).click();
		await tab.waitForURL('**/chat', { timeout: 30_000 });
		await openConversation({ ...alice, page: tab }, bob.name);
		await messageLog({ ...alice, page: tab })
			.getByText('Written on the train, no signal.')
			.waitFor();
		await alice.context.setOffline(false);
		await tab.locator('[data-connection="online"]').waitFor({ timeout: 20_000 });
		await tab.close();
	});

	it('logs out everywhere: the hub session ends, the other tab follows, nothing stays unlocked', async () => {
		const tab = await alice.context.newPage();
		await tab.goto('/');
		await tab.getByLabel('Password', { exact: true }).fill(PASSWORD);
		await tab.getByRole('button', { name: 'Unlock' }).click();
		await tab.waitForURL('**/chat', { timeout: 30_000 });
		await tab.locator('[data-connection="online"]').waitFor({ timeout: 15_000 });

		await tab.getByLabel(/^Account menu/).click();
		await tab.getByRole('button', { name: 'Sign out…' }).click();
		// Keep this device's sealed copy: the next tab unlocks it again.
		await tab.getByRole('checkbox', { name: /Erase this device/ }).uncheck();
		await tab.getByRole('dialog').getByRole('button', { name: 'Sign out' }).click();
		await tab.getByRole('button', { name: 'Unlock' }).waitFor({ timeout: 15_000 });
		expect(await tab.evaluate(() => sessionStorage.getItem('hourglass.unlocked'))).toBeNull();

		// The first tab shares the cookie: the hub ends its socket too, and it locks itself.
		await alice.page.getByRole('button', { name: 'Unlock' }).waitFor({ timeout: 15_000 });
		expect(await alice.page.evaluate(() => sessionStorage.getItem('hourglass.unlocked'))).toBeNull();
		await tab.close();
	});

	it('raised no error in either browser', () => {
		expect(alice.errors).toEqual([]);
		expect(bob.errors).toEqual([]);
	});
});
