import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { sendFile } from '../../src/lib/sdk';
import { startTestHub, type TestHub } from '../helpers/hub';
import { newUser, uniqueName as uniqueUser, type TestClient } from '../helpers/users';
import {
	DESKTOP,
	addContact,
	launchChromium,
	openConversation,
	openPerson,
	register,
	uniqueName,
	type Person,
} from './support';

let hub: TestHub;
let browser: Browser;
let bob: Person;
let alice: TestClient;

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_files' });
	browser = await launchChromium();
	bob = await openPerson(browser, hub.url, uniqueName('bob'), DESKTOP);
	alice = await newUser(hub.url, uniqueUser('alice'));
});

afterAll(async () => {
	alice?.close();
	await browser?.close();
	await hub?.stop();
});

describe('a file message in the PWA', () => {
	it('shows the name, type and size of a file sent from the SDK, and the list previews it', async () => {
		await register(bob);
		await addContact(bob, alice.username);
		const data = randomBytes(300_000);
		await sendFile(alice.messenger, bob.name, {
			name: 'report<b>.pdf',
			mime: 'application/pdf',
			size: data.length,
			async *read() {
				yield data;
			},
		});
		await bob.page
			.locator(`[data-peer="${alice.username}"]`)
			.getByText('File: report<b>.pdf')
			.waitFor({ timeout: 20_000 });
		await openConversation(bob, alice.username);
		const bubble = bob.page.locator('[data-file]');
		await bubble.waitFor({ timeout: 15_000 });
		const text = await bubble.textContent();
		// Shown as text, never as markup.
		expect(text).toContain('report<b>.pdf');
		expect(text).toContain('application/pdf · 293.0 KiB');
		expect(await bubble.locator('b').count()).toBe(0);
		expect(bob.errors).toEqual([]);
	});
});
