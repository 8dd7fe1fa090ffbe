import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { generateIdentity, publicIdentity, ready } from '../../src/lib/crypto';
import { encodeSafetyCode } from '../../src/lib/sdk';
import { startTestHub, type TestHub } from '../helpers/hub';
import {
	DESKTOP,
	PHONE,
	addContact,
	firstMessage,
	launchChromium,
	openPerson,
	register,
	screenshot,
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
/** What Chromium's fake camera films: a Y4M file, rewritten before the camera is opened. */
const cameraDir = mkdtempSync(join(tmpdir(), 'hourglass-camera-'));
const cameraFile = join(cameraDir, 'camera.y4m');

/** A Y4M video (one frame, grey levels only) of `text` as a QR code, as a camera pointed at a screen sees it. */
function qrVideo(text: string): Buffer {
	const modules = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
	const scale = 8;
	const quiet = 4;
	const side = (modules.size + 2 * quiet) * scale;
	const luma = Buffer.alloc(side * side, 235);
	for (let y = 0; y < side; y++) {
		for (let x = 0; x < side; x++) {
			const row = Math.floor(y / scale) - quiet;
			const col = Math.floor(x / scale) - quiet;
			const inside = row >= 0 && col >= 0 && row < modules.size && col < modules.size;
			if (inside && modules.get(row, col)) luma[y * side + x] = 16;
		}
	}
	const chroma = Buffer.alloc((side / 2) * (side / 2) * 2, 128);
	const header = Buffer.from(`YUV4MPEG2 W${side} H${side} F10:1 Ip A1:1 C420jpeg\nFRAME\n`);
	return Buffer.concat([header, luma, chroma]);
}

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_verify_qr' });
	writeFileSync(cameraFile, qrVideo('nothing to see yet'));
	browser = await launchChromium([
		'--use-fake-device-for-media-stream',
		'--use-fake-ui-for-media-stream',
		`--use-file-for-fake-video-capture=${cameraFile}`,
	]);
	alice = await openPerson(browser, hub.url, uniqueName('alice'), DESKTOP);
	bob = await openPerson(browser, hub.url, uniqueName('bob'), PHONE);
	carol = await openPerson(browser, hub.url, uniqueName('carol'), DESKTOP);
	await register(alice);
	await register(bob);
	await register(carol);
	await addContact(bob, alice.name);
	await firstMessage(alice, bob, 'Shall we verify?');
	await startConversation(carol, bob.name);
}, 120_000);

afterAll(async () => {
	await browser?.close();
	await hub?.stop();
	rmSync(cameraDir, { recursive: true, force: true });
});

async function openDetails(person: Person): Promise<void> {
	const toggle = person.page.getByRole('button', { name: 'Details' });
	if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
	await person.page.locator('[data-verification]').waitFor();
}

/** A picture of the QR code on the person's screen, as a camera would take it. */
async function photographQr(person: Person): Promise<Buffer> {
	await openDetails(person);
	const qr = person.page.locator('img[data-safety-qr]');
	await qr.waitFor({ timeout: 15_000 });
	return qr.screenshot();
}

async function scanImage(person: Person, image: Buffer): Promise<void> {
	await openDetails(person);
	await person.page
		.getByLabel('Choose an image of their code')
		.setInputFiles({ name: 'code.png', mimeType: 'image/png', buffer: image });
}

function headerBadge(person: Person) {
	return person.page.locator('header [data-verified]');
}

async function verificationState(person: Person): Promise<string | null> {
	return person.page.locator('[data-verification]').getAttribute('data-verification');
}

describe('verifying a contact by safety QR code', () => {
	it('a third person’s code, or other digits, say loudly that nothing matches and change nothing', async () => {
		const carolsCode = await photographQr(carol);
		await scanImage(bob, carolsCode);
		const mismatch = bob.page.getByRole('alert').filter({ hasText: 'The safety numbers do not match' });
		await mismatch.waitFor({ timeout: 30_000 });
		expect(await mismatch.textContent()).toContain('another pair of people');
		expect(await mismatch.textContent()).toContain('Nothing was marked verified');
		expect(await verificationState(bob)).toBe('unverified');
		expect(await headerBadge(bob).count()).toBe(0);

		// The right pair of names with other digits: what a person in the middle would show.
		const number = await bob.page.locator('[data-safety-number]').getAttribute('data-safety-number');
		const digits = number!.replace(/ /g, '');
		const forged = `hourglass-safety:1:${alice.name}:${bob.name}:${digits.slice(0, 59)}${digits[59] === '0' ? '1' : '0'}`;
		await bob.page.getByLabel('Or type or paste their safety code or 60 digits').fill(forged);
		await bob.page.getByRole('button', { name: 'Compare' }).click();
		await mismatch.filter({ hasText: 'other keys than the ones this device holds' }).waitFor();
		expect(await verificationState(bob)).toBe('unverified');
		await mismatch.scrollIntoViewIfNeeded();
		await screenshot(bob, 'verify-mismatch-mobile.png');

		// Bob's own code held up to him is not a comparison either.
		await scanImage(bob, await photographQr(bob));
		await bob.page
			.getByRole('alert')
			.filter({ hasText: 'That is your own code' })
			.waitFor({ timeout: 30_000 });
		expect(await verificationState(bob)).toBe('unverified');
	});

	it('each scans the other’s code: both show verified, in the header and the conversation list', async () => {
		await scanImage(bob, await photographQr(alice));
		await bob.page
			.getByRole('status')
			.filter({ hasText: 'The safety numbers match' })
			.waitFor({ timeout: 30_000 });
		await headerBadge(bob).waitFor();
		expect(await verificationState(bob)).toBe('verified');
		await screenshot(bob, 'verified-mobile.png');

		// Alice has not scanned yet: her side still says so.
		expect(await verificationState(alice)).toBe('unverified');
		await scanImage(alice, await photographQr(bob));
		await alice.page
			.getByRole('status')
			.filter({ hasText: 'The safety numbers match' })
			.waitFor({ timeout: 30_000 });
		await headerBadge(alice).waitFor();
		await alice.page.locator(`[data-peer="${bob.name}"] [data-verified]`).waitFor();
		expect(await alice.page.locator(`[data-peer="${bob.name}"]`).textContent()).toContain('verified');
		await screenshot(alice, 'verified.png');

		// Kept on the device: a reload shows the same.
		await alice.page.reload();
		await alice.page.locator('[data-connection="online"]').waitFor({ timeout: 15_000 });
		await headerBadge(alice).waitFor();
	});

	it('a key change clears verified on the device that saw it, and accepting it does not bring it back', async () => {
		// As in verification.test.ts: Bob's device holds another signing key for Alice than hers.
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
		await send(alice, 'Are we still verified?');

		const banner = bob.page.getByRole('alert').filter({ hasText: 'safety number has changed' });
		await banner.waitFor({ timeout: 15_000 });
		await headerBadge(bob).waitFor({ state: 'detached' });
		expect(await verificationState(bob)).toBe('unverified');

		await banner.getByRole('button', { name: /accept the new keys/ }).click();
		await banner.waitFor({ state: 'detached' });
		// The keys pinned now are the very ones Bob had verified, yet the mark is gone until he compares again.
		expect(await verificationState(bob)).toBe('unverified');
		expect(await headerBadge(bob).count()).toBe(0);
	});

	it('"Mark as not verified" takes the badge away', async () => {
		await openDetails(alice);
		await alice.page.getByRole('button', { name: 'Mark as not verified' }).click();
		await headerBadge(alice).waitFor({ state: 'detached' });
		await alice.page.locator(`[data-peer="${bob.name}"] [data-verified]`).waitFor({ state: 'detached' });
		expect(await verificationState(alice)).toBe('unverified');
	});

	it('scans the code with the camera', async () => {
		const dave = await openPerson(browser, hub.url, uniqueName('dave'), PHONE);
		await dave.context.grantPermissions(['camera'], { origin: hub.url });
		await register(dave);
		await startConversation(dave, alice.name);
		await openDetails(dave);
		const number = await dave.page.locator('[data-safety-number]').getAttribute('data-safety-number');
		// Alice's screen, filmed by Dave's camera.
		writeFileSync(cameraFile, qrVideo(encodeSafetyCode(alice.name, dave.name, number!)));
		await dave.page.getByRole('button', { name: 'Scan with the camera' }).click();
		await dave.page
			.getByRole('status')
			.filter({ hasText: 'The safety numbers match' })
			.waitFor({ timeout: 30_000 });
		await headerBadge(dave).waitFor();
		// Found a code: the camera is off again.
		await dave.page.getByRole('button', { name: 'Scan with the camera' }).waitFor();
		expect(await dave.page.locator('video').count()).toBe(0);
		expect(dave.errors).toEqual([]);
	});

	it('raised no error in any browser', () => {
		expect(alice.errors).toEqual([]);
		expect(bob.errors).toEqual([]);
		expect(carol.errors).toEqual([]);
	});
});
