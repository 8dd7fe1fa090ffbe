import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { LIMITS } from '../../src/lib/protocol';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	DESKTOP,
	launchChromium,
	messageLog,
	openPerson,
	register,
	send,
	startConversation,
	uniqueName,
	type Person,
} from './support';

let hub: TestHub;
let browser: Browser;
let alice: Person;
let bob: Person;
let carol: Person;

beforeAll(async () => {
	// The protocol's request caps, not the test defaults that keep them out of other tests' way.
	hub = await startTestHub({
		name: 'e2e_contacts',
		env: {
			REQUEST_ENVELOPES_MAX: String(LIMITS.requestEnvelopesMax),
			REQUEST_BYTES_MAX: String(LIMITS.requestBytesMax),
		},
	});
	browser = await launchChromium();
	alice = await openPerson(browser, hub.url, uniqueName('alice'), DESKTOP);
	bob = await openPerson(browser, hub.url, uniqueName('bob'), DESKTOP);
	carol = await openPerson(browser, hub.url, uniqueName('carol'), DESKTOP);
	await register(alice);
	await register(bob);
	await register(carol);
}, 120_000);

afterAll(async () => {
	await browser?.close();
	await hub?.stop();
});

const requests = (person: Person) => person.page.locator('section[data-requests]');

describe('message requests in the PWA', () => {
	it("shows a stranger's first message in Requests, not the chat list; accepting moves it to the chats and replies work", async () => {
		await startConversation(alice, bob.name);
		await send(alice, 'Hi Bob, we met at the conference.');

		const request = requests(bob).locator(`[data-peer="${alice.name}"]`);
		await request.waitFor({ timeout: 15_000 });
		await expect.poll(() => request.textContent()).toContain('Hi Bob, we met at the conference.');
		expect(await requests(bob).getAttribute('data-requests')).toBe('1');
		await bob.page.getByLabel('1 message request').waitFor();
		// Only the request row names alice: the chat list does not.
		expect(await bob.page.locator(`[data-peer="${alice.name}"]`).count()).toBe(1);

		await request.locator('a').click();
		await bob.page.waitForURL(`**/chat/${alice.name}`);
		const bar = bob.page.getByRole('region', { name: `Message request from ${alice.name}` });
		await bar.waitFor();
		await messageLog(bob).getByText('Hi Bob, we met at the conference.').waitFor();
		await bar.getByRole('button', { name: 'Accept' }).click();
		await bar.waitFor({ state: 'detached', timeout: 15_000 });
		await requests(bob).waitFor({ state: 'detached' });
		await bob.page.locator(`[data-peer="${alice.name}"]`).waitFor();

		await send(bob, 'Good to hear from you, Alice.');
		await messageLog(alice).getByText('Good to hear from you, Alice.').waitFor({ timeout: 15_000 });
		await bob.page.locator('[data-status="delivered"]').waitFor({ timeout: 15_000 });
		// Alice's side never saw a request: she wrote first.
		expect(await requests(alice).count()).toBe(0);

		// The Contacts page lists alice; a nickname stays on this device.
		await bob.page
			.getByRole('navigation', { name: 'Main' })
			.getByRole('link', { name: 'Contacts', exact: true })
			.click();
		const row = bob.page.locator(`[data-contact="${alice.name}"][data-state="accepted"]`);
		await row.waitFor();
		await row.getByRole('button', { name: `Nickname for ${alice.name}` }).click();
		await row.getByLabel(`Nickname for ${alice.name} (this device only)`).fill('Alice from the conference');
		await row.getByRole('button', { name: 'Save' }).click();
		await row.getByText('Alice from the conference').waitFor();
	});

	it('blocks from a request: the request goes, and the hub stores nothing more from the sender, whose messages stay "sent"', async () => {
		await startConversation(carol, bob.name);
		await send(carol, 'Buy my timeshare!');
		await bob.page
			.getByRole('navigation', { name: 'Main' })
			.getByRole('link', { name: /^Chats/ })
			.click();
		const request = requests(bob).locator(`[data-peer="${carol.name}"]`);
		await request.waitFor({ timeout: 15_000 });
		await request.locator('a').click();
		await bob.page.waitForURL(`**/chat/${carol.name}`);
		await bob.page
			.getByRole('region', { name: `Message request from ${carol.name}` })
			.getByRole('button', { name: 'Block' })
			.click();
		await bob.page.waitForURL('**/chat');
		await requests(bob).waitFor({ state: 'detached', timeout: 15_000 });
		expect(await bob.page.locator(`[data-peer="${carol.name}"]`).count()).toBe(0);

		const { store } = hub.hub.context;
		// Blocking declined the request: the hub's copy is gone.
		await expect.poll(() => store.usage.storedFor(carol.name, bob.name)).toEqual({ envelopes: 0, bytes: 0 });
		await send(carol, 'Still there?');
		// Carol's copy is acknowledged as usual ("sent")…
		await messageLog(carol)
			.locator('li[data-status="sent"]', { hasText: 'Still there?' })
			.waitFor({ timeout: 15_000 });
		// …and the hub kept nothing of it, so it never becomes "delivered".
		expect(await store.usage.storedFor(carol.name, bob.name)).toEqual({ envelopes: 0, bytes: 0 });

		await bob.page
			.getByRole('navigation', { name: 'Main' })
			.getByRole('link', { name: 'Contacts', exact: true })
			.click();
		await bob.page.locator(`[data-contact="${carol.name}"][data-state="blocked"]`).waitFor();
	});

	it('adds a contact from a card link, and refuses a card whose fingerprint does not match', async () => {
		await carol.page
			.getByRole('navigation', { name: 'Main' })
			.getByRole('link', { name: 'Contacts', exact: true })
			.click();
		await carol.page.getByRole('img', { name: 'QR code of your contact card link' }).waitFor();
		const link = await carol.page.getByLabel('Card link', { exact: true }).inputValue();
		expect(link).toMatch(new RegExp(`/add#u=${carol.name}&fp=\\d{30}$`));

		const tampered = link.replace(/\d$/, (d) => String((Number(d) + 1) % 10));
		await alice.page.goto(tampered);
		const refused = alice.page.getByRole('alert');
		await refused.getByText(`The keys of ${carol.name} do not match this card`).waitFor({ timeout: 15_000 });
		await alice.page.getByRole('link', { name: 'Back to contacts' }).click();
		await alice.page.locator('[data-contact]').first().waitFor();
		expect(await alice.page.locator(`[data-contact="${carol.name}"]`).count()).toBe(0);

		await alice.page.goto(link);
		await alice.page.waitForURL(`**/chat/${carol.name}`, { timeout: 15_000 });
		await alice.page
			.getByRole('navigation', { name: 'Main' })
			.getByRole('link', { name: 'Contacts', exact: true })
			.click();
		await alice.page.locator(`[data-contact="${carol.name}"][data-state="accepted"]`).waitFor();
	});

	it('raised no error in any browser', () => {
		expect(alice.errors).toEqual([]);
		expect(bob.errors).toEqual([]);
		expect(carol.errors).toEqual([]);
	});
});
