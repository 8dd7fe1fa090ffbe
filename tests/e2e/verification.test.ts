import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { generateIdentity, publicIdentity, ready } from '../../src/lib/crypto';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	DESKTOP,
	PHONE,
	firstMessage,
	launchChromium,
	messageLog,
	openPerson,
	register,
	send,
	uniqueName,
	type Person,
} from './support';

let hub: TestHub;
let browser: Browser;
let alice: Person;
let bob: Person;

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_verify' });
	browser = await launchChromium();
	alice = await openPerson(browser, hub.url, uniqueName('alice'), DESKTOP);
	bob = await openPerson(browser, hub.url, uniqueName('bob'), PHONE);
	await register(alice);
	await register(bob);
	await firstMessage(alice, bob, 'First contact.');
});

afterAll(async () => {
	await browser?.close();
	await hub?.stop();
});

describe('messages that fail verification', () => {
	it('are shown as "could not be verified", never as text, and a key change blocks sending', async () => {
		// Fault: Bob's device pinned another signing key for Alice than the one she signs with,
		// as if someone had slipped in their own key when Bob first fetched hers.
		await ready();
		const forged = publicIdentity(generateIdentity()).signPk;
		await bob.page.evaluate(
			async ({ db, peer, signPk }) => {
				const open = indexedDB.open(db);
				const conn = await new Promise<IDBDatabase>((resolve, reject) => {
					open.onsuccess = () => resolve(open.result);
					open.onerror = () => reject(open.error);
				});
				const tx = conn.transaction('pins', 'readwrite');
				const store = tx.objectStore('pins');
				const pin = await new Promise<{ signPk: string }>((resolve, reject) => {
					const get = store.get(peer);
					get.onsuccess = () => resolve(get.result as { signPk: string });
					get.onerror = () => reject(get.error);
				});
				store.put({ ...pin, signPk });
				await new Promise<void>((resolve) => (tx.oncomplete = () => resolve()));
				conn.close();
			},
			{ db: `hourglass-${bob.name}`, peer: alice.name, signPk: forged },
		);

		const secret = 'This text must never be shown unverified.';
		await send(alice, secret);

		const unverified = messageLog(bob).locator('li', { hasText: 'could not be verified' });
		await unverified.waitFor({ timeout: 15_000 });
		expect(await bob.page.getByText(secret).count()).toBe(0);

		// Loud, and sending stops until Bob accepts the keys the hub now gives.
		const banner = bob.page.getByRole('alert').filter({ hasText: 'safety number has changed' });
		await banner.waitFor();
		expect(await bob.page.getByLabel('Message', { exact: true }).isDisabled()).toBe(true);
		expect(await bob.page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);

		await banner.getByRole('button', { name: /accept the new keys/ }).click();
		await banner.waitFor({ state: 'detached' });
		expect(await bob.page.getByLabel('Message', { exact: true }).isDisabled()).toBe(false);

		// With Alice's real keys pinned again, her next message verifies and reads normally.
		await send(alice, 'Verified again.');
		await messageLog(bob).getByText('Verified again.').waitFor({ timeout: 15_000 });
		// The unverified one stays hidden: its text was never kept.
		expect(await bob.page.getByText(secret).count()).toBe(0);
		await send(bob, 'Thanks, all good now.');
		await messageLog(alice).getByText('Thanks, all good now.').waitFor({ timeout: 15_000 });
	});

	it('raised no error in either browser', () => {
		expect(alice.errors).toEqual([]);
		expect(bob.errors).toEqual([]);
	});
});
