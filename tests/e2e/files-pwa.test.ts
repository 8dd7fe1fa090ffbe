import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Download, Locator, Page, Request, Route } from 'playwright-core';
import { toB64 } from '../../src/lib/crypto';
import { downloadFile, uploadFile, type DecodedMessage } from '../../src/lib/sdk';
import { startTestHub, type TestHub } from '../helpers/hub';
import { newUser, uniqueName as uniqueUser, type TestClient } from '../helpers/users';
import {
	DESKTOP,
	addContact,
	dumpDatabase,
	launchChromium,
	openConversation,
	openPerson,
	register,
	screenshot,
	toLocalInput,
	uniqueName,
	type Person,
} from './support';

const MiB = 1024 * 1024;
let hub: TestHub;
let browser: Browser;
let alice: Person;
let bob: Person;
/** A command-line user, to send files the PWA receives and to receive what the PWA sends. */
let carol: TestClient;
let folder: string;

beforeAll(async () => {
	// Room for the 50 MiB file below, not for the one that must be refused.
	hub = await startTestHub({ name: 'e2e_files_pwa', env: { FILE_MAX_BYTES: String(52 * MiB) } });
	browser = await launchChromium();
	folder = mkdtempSync(join(tmpdir(), 'hourglass-files-'));
	alice = await openPerson(browser, hub.url, uniqueName('alice'), DESKTOP);
	bob = await openPerson(browser, hub.url, uniqueName('bob'), DESKTOP);
	carol = await newUser(hub.url, uniqueUser('carol'));
	// Bob saves through the service worker's streamed download (what Firefox and Safari get): the
	// File System Access picker is a native dialog that a test cannot answer.
	await bob.context.addInitScript(() => {
		delete (window as { showSaveFilePicker?: unknown }).showSaveFilePicker;
	});
	await register(alice);
	await register(bob);
	await addContact(alice, bob.name);
	await addContact(bob, alice.name);
	await addContact(alice, carol.username);
	await addContact(bob, carol.username);
	await carol.api.setContact(alice.name, 'accepted');
	await carol.api.setContact(bob.name, 'accepted');
}, 120_000);

afterAll(async () => {
	carol?.close();
	await browser?.close();
	await hub?.stop();
	if (folder) rmSync(folder, { recursive: true, force: true });
});

function sha256(bytes: Uint8Array): string {
	return createHash('sha256').update(bytes).digest('hex');
}

/** A file of random bytes on disk, for the file picker. */
function fileOnDisk(name: string, size: number): { path: string; data: Buffer } {
	const data = randomBytes(size);
	const path = join(folder, name);
	writeFileSync(path, data);
	return { path, data };
}

async function attach(person: Person, files: string | { name: string; mimeType: string; buffer: Buffer }) {
	await person.page.locator('[data-attach-input]').setInputFiles(files);
}

/** Carol's messages of files named `name` from `from`, as her SDK opens them. */
async function filesFrom(from: string, name: string): Promise<DecodedMessage[]> {
	const page = await carol.messenger.sync(null);
	return page.messages.filter((m) => m.peer === from && m.file?.name === name);
}

/** Downloads, checks and hashes a file message through Carol's SDK. */
async function carolReads(message: DecodedMessage): Promise<string> {
	const hash = createHash('sha256');
	await downloadFile(carol.api, message.file!, { write: (bytes) => void hash.update(bytes) });
	return hash.digest('hex');
}

/** Records the largest share each labelled <progress> reached, even one removed the moment it ends. */
async function watchProgress(page: Page): Promise<void> {
	await page.evaluate(() => {
		const seen: Record<string, number> = {};
		(window as unknown as { progressSeen: Record<string, number> }).progressSeen = seen;
		const note = () => {
			for (const bar of document.querySelectorAll('progress')) {
				const label = bar.getAttribute('aria-label') ?? '';
				if (bar.max > 0) seen[label] = Math.max(seen[label] ?? 0, bar.value / bar.max);
			}
		};
		new MutationObserver(note).observe(document.body, {
			subtree: true,
			childList: true,
			attributes: true,
			attributeFilter: ['value'],
		});
	});
}

function progressSeen(page: Page, label: string): Promise<number> {
	return page.evaluate(
		(name) => (window as unknown as { progressSeen: Record<string, number> }).progressSeen[name] ?? 0,
		label,
	);
}

/** Holds the file chunks the page uploads after the first `passFirst` (a stalled network). */
async function holdChunks(page: Page, passFirst = 0) {
	const held: Route[] = [];
	let passed = 0;
	const pattern = '**/api/files/*/chunks/*';
	const handler = async (route: Route) => {
		if (route.request().method() !== 'PUT' || passed < passFirst) {
			passed += 1;
			return route.continue();
		}
		held.push(route);
	};
	await page.route(pattern, handler);
	return {
		held: () => held.length,
		/** Stops holding; the held requests are dropped, as a lost connection or a reload drops them. */
		async drop() {
			await page.unroute(pattern, handler);
			for (const route of held.splice(0)) await route.abort('failed').catch(() => undefined);
		},
	};
}

/** The ciphertext bytes a labelled <progress> shows as sent. */
function progressValue(page: Page, label: string): Promise<number> {
	return page
		.getByRole('progressbar', { name: label })
		.evaluate((bar: HTMLProgressElement) => bar.value)
		.catch(() => 0);
}

/** The records of one IndexedDB store of the page's account database. */
function storeRows<T>(person: Person, store: string): Promise<T[]> {
	return person.page.evaluate(
		async ([dbName, storeName]) => {
			const open = indexedDB.open(dbName!);
			const db = await new Promise<IDBDatabase>((resolve, reject) => {
				open.onsuccess = () => resolve(open.result);
				open.onerror = () => reject(open.error);
			});
			const all = db.transaction(storeName!).objectStore(storeName!).getAll();
			const rows = await new Promise<unknown[]>((resolve) => (all.onsuccess = () => resolve(all.result)));
			db.close();
			return rows as T[];
		},
		[`hourglass-${person.name}`, store],
	);
}

async function saveDownload(page: Page, click: () => Promise<void>): Promise<Download> {
	const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), click()]);
	return download;
}

/** Carol sends `to` a file of `data` cut in chunks of `chunkSize`: the message's id and the file's id. */
async function carolSends(to: string, name: string, data: Buffer, chunkSize?: number) {
	const uploaded = await uploadFile(
		carol.api,
		{
			size: data.length,
			async *read() {
				yield data;
			},
		},
		{ chunkSize },
	);
	const envelope = await carol.messenger.sealBody(
		to,
		{
			type: 'file',
			fileId: uploaded.fileId,
			key: toB64(uploaded.key),
			name,
			mime: 'application/octet-stream',
			size: uploaded.size,
			chunkSize: uploaded.chunkSize,
			hash: toB64(uploaded.hash),
		},
		{ fileId: uploaded.fileId },
	);
	await carol.messenger.sendEnvelope(envelope);
	return { messageId: envelope.id, fileId: uploaded.fileId };
}

/** How many ciphertext chunks of file `fileId` the page keeps in IndexedDB. */
function keptChunks(person: Person, fileId: string): Promise<number> {
	return person.page.evaluate(
		async ([dbName, id]) => {
			const open = indexedDB.open(dbName!);
			const db = await new Promise<IDBDatabase>((resolve, reject) => {
				open.onsuccess = () => resolve(open.result);
				open.onerror = () => reject(open.error);
			});
			const range = IDBKeyRange.bound([id, 0], [id, Infinity]);
			const count = db.transaction('fileChunks').objectStore('fileChunks').count(range);
			const n = await new Promise<number>((resolve) => (count.onsuccess = () => resolve(count.result)));
			db.close();
			return n;
		},
		[`hourglass-${person.name}`, fileId],
	);
}

/**
 * Answers the File System Access save picker (a native dialog no test can click) with a real file of
 * the origin private file system: what the app then does with the handle (createWritable, write,
 * close, abort) is the browser's own File System Access API. Installed after the page loaded, for
 * this page only, until it reloads.
 */
async function pickIntoOpfs(page: Page): Promise<void> {
	await page.evaluate(() => {
		(window as unknown as { showSaveFilePicker: unknown }).showSaveFilePicker = async (options: {
			suggestedName: string;
		}) => {
			const root = await navigator.storage.getDirectory();
			return root.getFileHandle(options.suggestedName, { create: true });
		};
	});
}

/** The size and SHA-256 of a file in the page's origin private file system (null when there is none). */
function opfsFile(page: Page, name: string): Promise<{ size: number; sha256: string } | null> {
	return page.evaluate(async (fileName) => {
		const root = await navigator.storage.getDirectory();
		const handle = await root.getFileHandle(fileName).catch(() => null);
		if (!handle) return null;
		const file = await handle.getFile();
		const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
		return { size: file.size, sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join('') };
	}, name);
}

/** Slows the page's downloads to `bytesPerSecond` (Chromium's own network throttling); returns what lifts it. */
async function throttle(page: Page, bytesPerSecond: number): Promise<() => Promise<void>> {
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	const conditions = { offline: false, latency: 0, uploadThroughput: -1 };
	await cdp.send('Network.emulateNetworkConditions', { ...conditions, downloadThroughput: bytesPerSecond });
	return async () => {
		await cdp.send('Network.emulateNetworkConditions', { ...conditions, downloadThroughput: -1 });
		await cdp.detach();
	};
}

describe('files in the PWA', () => {
	it('sends an image whose thumbnail shows on the other side and opens full size, offline too', async () => {
		await openConversation(alice, bob.name);
		// A 1200×800 PNG drawn in the browser, with a text chunk as metadata that must not travel in the preview.
		const png = await alice.page.evaluate(async () => {
			const canvas = new OffscreenCanvas(1200, 800);
			const context = canvas.getContext('2d')!;
			context.fillStyle = '#36c';
			context.fillRect(0, 0, 1200, 800);
			context.fillStyle = '#fc3';
			context.fillRect(100, 100, 500, 300);
			const blob = await canvas.convertToBlob({ type: 'image/png' });
			const bytes = new Uint8Array(await blob.arrayBuffer());
			let binary = '';
			for (const byte of bytes) binary += String.fromCharCode(byte);
			return btoa(binary);
		});
		const secret = Buffer.from('tEXtComment\0GPS 48.8584 2.2945 secret-location');
		const image = Buffer.concat([Buffer.from(png, 'base64'), secret]);
		await attach(alice, { name: 'holiday.png', mimeType: 'image/png', buffer: image });

		await openConversation(bob, alice.name);
		const thumbnail = bob.page.locator('[data-file] img[data-thumbnail]');
		await thumbnail.waitFor({ timeout: 60_000 });
		const preview = await thumbnail.evaluate(async (img: HTMLImageElement) => {
			await img.decode();
			return { src: img.src, width: img.naturalWidth, height: img.naturalHeight };
		});
		expect(preview.src.startsWith('blob:')).toBe(true);
		expect(preview).toMatchObject({ width: 320, height: 213 });

		await bob.page.getByRole('button', { name: 'Open the image holiday.png' }).click();
		const dialog = bob.page.getByRole('dialog', { name: 'holiday.png' });
		const full = dialog.locator('img[data-full-image]');
		await full.waitFor({ timeout: 60_000 });
		expect(await full.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([
			1200, 800,
		]);
		await bob.page.keyboard.press('Escape');
		await dialog.waitFor({ state: 'detached' });

		// Opened once, it opens again with no network, from the copy kept on this device.
		await bob.context.setOffline(true);
		try {
			await bob.page.getByRole('button', { name: 'Open the image holiday.png' }).click();
			await full.waitFor({ timeout: 30_000 });
			expect(await full.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1200);
			await bob.page.keyboard.press('Escape');
			await dialog.waitFor({ state: 'detached' });
		} finally {
			await bob.context.setOffline(false);
		}
		// The copy is encrypted at rest: the image's bytes are not in IndexedDB in clear.
		const stored = await dumpDatabase(bob.page, `hourglass-${bob.name}`);
		expect(stored).not.toContain('secret-location');

		// The preview that travels is a small JPEG made anew, without the original's metadata.
		await openConversation(alice, carol.username);
		await attach(alice, { name: 'holiday.png', mimeType: 'image/png', buffer: image });
		await expect
			.poll(async () => (await filesFrom(alice.name, 'holiday.png')).length, { timeout: 60_000 })
			.toBe(1);
		const [message] = await filesFrom(alice.name, 'holiday.png');
		const jpeg = Buffer.from(message!.file!.thumbnail!, 'base64url');
		expect(jpeg.length).toBeLessThanOrEqual(32 * 1024);
		expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
		expect(jpeg.includes('secret-location')).toBe(false);
		expect(alice.errors).toEqual([]);
		expect(bob.errors).toEqual([]);
	}, 180_000);

	it('sends a 50 MiB file with a progress bar that reaches the end; the download has the same bytes', async () => {
		const { path, data } = fileOnDisk('big.bin', 50 * MiB);
		await openConversation(alice, bob.name);
		await watchProgress(alice.page);
		await attach(alice, path);
		await alice.page.getByRole('progressbar', { name: 'Sending big.bin' }).waitFor({ timeout: 30_000 });
		await alice.page.locator('[data-file]', { hasText: 'big.bin' }).waitFor({ timeout: 240_000 });
		expect(await progressSeen(alice.page, 'Sending big.bin')).toBe(1);

		await openConversation(bob, alice.name);
		const bubble = bob.page.locator('[data-file]', { hasText: 'big.bin' });
		await bubble.waitFor({ timeout: 60_000 });
		expect(await bubble.textContent()).toContain('application/octet-stream · 50.0 MiB');
		await watchProgress(bob.page);
		const download = await saveDownload(bob.page, () =>
			bubble.getByRole('button', { name: 'Download big.bin' }).click(),
		);
		await bubble.getByRole('progressbar', { name: 'Downloading big.bin' }).waitFor({ timeout: 30_000 });
		expect(download.suggestedFilename()).toBe('big.bin');
		const saved = await download.path();
		expect(await download.failure()).toBeNull();
		expect(sha256(readFileSync(saved))).toBe(sha256(data));
		await bubble.getByText('Downloaded').waitFor({ timeout: 60_000 });
		expect(await progressSeen(bob.page, 'Downloading big.bin')).toBe(1);
		await screenshot(bob, 'files.png');
	}, 600_000);

	it('cancels an upload: the file is never sent', async () => {
		const { path } = fileOnDisk('cancelled.bin', 4 * MiB);
		await openConversation(alice, carol.username);
		const filesBefore = (await storeRows<{ peer: string; file?: unknown }>(alice, 'messages')).filter(
			(m) => m.peer === carol.username && m.file,
		).length;
		const gate = await holdChunks(alice.page);
		await attach(alice, path);
		const bar = alice.page.getByRole('progressbar', { name: 'Sending cancelled.bin' });
		await bar.waitFor({ timeout: 30_000 });
		await expect.poll(() => gate.held(), { timeout: 30_000 }).toBeGreaterThan(0);
		await alice.page.getByRole('button', { name: 'Cancel: Sending cancelled.bin' }).click();
		await bar.waitFor({ state: 'detached' });
		await gate.drop();
		// Nothing waits to be sent, and no file message was written or queued.
		expect(await storeRows(alice, 'uploads')).toEqual([]);
		expect(await storeRows(alice, 'outbox')).toEqual([]);
		const messages = await storeRows<{ peer: string; file?: unknown }>(alice, 'messages');
		expect(messages.filter((m) => m.peer === carol.username && m.file)).toHaveLength(filesBefore);
		expect(await filesFrom(alice.name, 'cancelled.bin')).toEqual([]);
	}, 120_000);

	it('resumes an upload after a reload, sending only the chunks the hub lacks', async () => {
		const CHUNK = 256 * 1024 + 17;
		const { path, data } = fileOnDisk('resumed.bin', 24 * 256 * 1024 - 1000);
		await openConversation(alice, carol.username);
		const gate = await holdChunks(alice.page, 8);
		await attach(alice, path);
		// Eight chunks are on the hub when the network stalls; then the page reloads.
		await expect.poll(() => gate.held(), { timeout: 60_000 }).toBeGreaterThan(0);
		await expect
			.poll(() => progressValue(alice.page, 'Sending resumed.bin'), { timeout: 60_000 })
			.toBeGreaterThanOrEqual(8 * CHUNK);
		await gate.drop();
		const puts: string[] = [];
		const onRequest = (request: { method(): string; url(): string }) => {
			if (request.method() === 'PUT' && request.url().includes('/chunks/')) puts.push(request.url());
		};
		alice.page.on('request', onRequest);
		await alice.page.reload();
		await alice.page.locator('[data-connection="online"]').waitFor({ timeout: 30_000 });
		await expect
			.poll(async () => (await filesFrom(alice.name, 'resumed.bin')).length, { timeout: 120_000 })
			.toBe(1);
		alice.page.off('request', onRequest);
		const [message] = await filesFrom(alice.name, 'resumed.bin');
		expect(await carolReads(message!)).toBe(sha256(data));
		// 24 chunks: the 8 the hub held before the reload were not sent again.
		expect(puts.length).toBeGreaterThan(0);
		expect(puts.length).toBeLessThanOrEqual(24 - 8);
	}, 240_000);

	it('resumes an upload after the hub restarts mid-way', async () => {
		const CHUNK = 256 * 1024 + 17;
		const { path, data } = fileOnDisk('restarted.bin', 24 * 256 * 1024 - 1000);
		await openConversation(alice, carol.username);
		const gate = await holdChunks(alice.page, 8);
		await attach(alice, path);
		await expect.poll(() => gate.held(), { timeout: 60_000 }).toBeGreaterThan(0);
		await expect
			.poll(() => progressValue(alice.page, 'Sending restarted.bin'), { timeout: 60_000 })
			.toBeGreaterThanOrEqual(8 * CHUNK);
		const puts: string[] = [];
		const onRequest = (request: { method(): string; url(): string }) => {
			if (request.method() === 'PUT' && request.url().includes('/chunks/')) puts.push(request.url());
		};
		alice.page.on('request', onRequest);
		await hub.restart();
		expect(hub.url).toBe(new URL(alice.page.url()).origin);
		// The requests in flight die with the hub; the upload waits, then goes on once it is back.
		await gate.drop();
		await expect
			.poll(async () => (await filesFrom(alice.name, 'restarted.bin')).length, { timeout: 120_000 })
			.toBe(1);
		alice.page.off('request', onRequest);
		const [message] = await filesFrom(alice.name, 'restarted.bin');
		expect(await carolReads(message!)).toBe(sha256(data));
		expect(puts.length).toBeLessThanOrEqual(24 - 8);
	}, 240_000);

	it('keeps a refused upload in sight with the reason, across a reload, until it is removed', async () => {
		const { path } = fileOnDisk('too-big.bin', 53 * MiB);
		await openConversation(alice, carol.username);
		await attach(alice, path);
		const upload = alice.page.locator('[data-upload="failed"]', { hasText: 'too-big.bin' });
		await upload.getByRole('alert').getByText('Not sent: This file is larger than the hub accepts.').waitFor({
			timeout: 60_000,
		});
		await alice.page.reload();
		await alice.page.locator('[data-connection="online"]').waitFor({ timeout: 30_000 });
		await upload.waitFor({ timeout: 30_000 });
		await upload.getByRole('button', { name: 'Retry' }).click();
		await upload.getByRole('alert').waitFor({ timeout: 60_000 });
		await upload.getByRole('button', { name: 'Remove' }).click();
		await upload.waitFor({ state: 'detached' });
		expect(await storeRows(alice, 'uploads')).toEqual([]);
		expect(await filesFrom(alice.name, 'too-big.bin')).toEqual([]);
	}, 180_000);

	it('sends a file dropped on the conversation and an image pasted into the message field', async () => {
		await openConversation(alice, carol.username);
		const dropped = await alice.page.evaluateHandle(() => {
			const transfer = new DataTransfer();
			transfer.items.add(new File(['dropped bytes'], 'dropped.txt', { type: 'text/plain' }));
			return transfer;
		});
		const conversation = alice.page.locator('.conversation');
		await conversation.dispatchEvent('dragenter', { dataTransfer: dropped });
		expect(await conversation.getAttribute('data-dropping')).toBe('true');
		await conversation.dispatchEvent('dragover', { dataTransfer: dropped });
		await conversation.dispatchEvent('drop', { dataTransfer: dropped });
		expect(await conversation.getAttribute('data-dropping')).toBeNull();

		await alice.page.getByLabel('Message', { exact: true }).evaluate(async (field) => {
			const canvas = new OffscreenCanvas(64, 48);
			const context = canvas.getContext('2d')!;
			context.fillStyle = '#c33';
			context.fillRect(0, 0, 64, 48);
			const blob = await canvas.convertToBlob({ type: 'image/png' });
			const transfer = new DataTransfer();
			transfer.items.add(new File([blob], 'image.png', { type: 'image/png' }));
			field.dispatchEvent(
				new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }),
			);
		});
		await expect
			.poll(async () => (await filesFrom(alice.name, 'dropped.txt')).length, { timeout: 60_000 })
			.toBe(1);
		await expect
			.poll(async () => (await filesFrom(alice.name, 'image.png')).length, { timeout: 60_000 })
			.toBe(1);
		const [pasted] = await filesFrom(alice.name, 'image.png');
		expect(pasted!.file!.mime).toBe('image/png');
		expect(pasted!.file!.thumbnail).toBeTruthy();
		const [drop] = await filesFrom(alice.name, 'dropped.txt');
		expect(await carolReads(drop!)).toBe(sha256(Buffer.from('dropped bytes')));
	}, 120_000);

	it('locks a file like a text: sealed for the recipient, then it opens at its unlock time', async () => {
		const { path, data } = fileOnDisk('sealed-plan.pdf', 200_000);
		await openConversation(alice, bob.name);
		// The picker has one-second steps: unlock on a whole second.
		const unlockAt = Math.ceil((Date.now() + 20_000) / 1000) * 1000;
		await alice.page.getByRole('button', { name: 'Lock until…' }).click();
		await alice.page.getByRole('button', { name: 'Custom' }).click();
		await alice.page.getByLabel(/Unlock date and time/).fill(toLocalInput(unlockAt));
		await alice.page.getByLabel(/Announce: /).setChecked(true);
		await attach(alice, path);
		// Uploaded now; the message is stored locked.
		await alice.page
			.locator('li[data-status="sent"][data-timelocked="locked"]', { hasText: 'sealed-plan.pdf' })
			.waitFor({ timeout: 30_000 });

		await openConversation(bob, alice.name);
		const sealed = bob.page.locator('[data-status="sealed"]');
		await sealed.waitFor({ timeout: 20_000 });
		// Nothing of the file shows, and nothing can be downloaded.
		expect(await sealed.textContent()).not.toContain('sealed-plan.pdf');
		expect(await bob.page.getByRole('button', { name: 'Download sealed-plan.pdf' }).count()).toBe(0);

		const bubble = bob.page.locator('[data-file]', { hasText: 'sealed-plan.pdf' });
		await bubble.waitFor({ timeout: 60_000 });
		expect(Date.now()).toBeGreaterThanOrEqual(unlockAt - 2_000);
		const download = await saveDownload(bob.page, () =>
			bubble.getByRole('button', { name: 'Download sealed-plan.pdf' }).click(),
		);
		expect(await download.failure()).toBeNull();
		expect(sha256(readFileSync(await download.path()))).toBe(sha256(data));

		// The offline copy the download left goes with its message.
		const row = bob.page.locator('li[data-id]', { has: bubble });
		const id = await row.getAttribute('data-id');
		const copiesOf = async () =>
			(await storeRows<{ messageId: string }>(bob, 'fileCopies')).filter((copy) => copy.messageId === id);
		await expect.poll(async () => (await copiesOf()).length, { timeout: 30_000 }).toBe(1);
		await row.getByRole('button', { name: 'Message options' }).click();
		await row.getByRole('menuitem', { name: 'Delete for me' }).click();
		await row.waitFor({ state: 'detached' });
		await expect.poll(async () => (await copiesOf()).length, { timeout: 30_000 }).toBe(0);
	}, 120_000);

	for (const way of ['streamed by the service worker', 'through the File System Access API'] as const) {
		it(`resumes a download ${way} after a reload, fetching only what it had not kept`, async () => {
			const picker = way === 'through the File System Access API';
			// Alice's browser has the save picker (Chromium's), Bob's does not (beforeAll).
			const person = picker ? alice : bob;
			const name = picker ? 'resumed-fsa.bin' : 'resumed-sw.bin';
			const CHUNK = 256 * 1024;
			const COUNT = 33;
			const data = randomBytes((COUNT - 1) * CHUNK + 1000);
			const { fileId } = await carolSends(person.name, name, data, CHUNK);
			await openConversation(person, carol.username);
			const bubble = person.page.locator('[data-file]', { hasText: name });
			await bubble.waitFor({ timeout: 30_000 });
			const asked: string[] = [];
			const onRequest = (request: Request) => {
				if (request.url().includes(`/api/files/${fileId}/content`)) asked.push(request.url());
			};
			person.page.on('request', onRequest);
			const lift = await throttle(person.page, 512 * 1024);
			try {
				if (picker) await pickIntoOpfs(person.page);
				const start = () => bubble.getByRole('button', { name: `Download ${name}` }).click();
				if (picker) await start();
				else await saveDownload(person.page, start);
				// A reload a quarter of the way: what came is kept, the rest never arrives in this page.
				await expect
					.poll(() => progressValue(person.page, `Downloading ${name}`), { timeout: 60_000 })
					.toBeGreaterThanOrEqual(8 * CHUNK);
				await person.page.reload();
			} finally {
				await lift();
			}
			await person.page.locator('[data-connection="online"]').waitFor({ timeout: 30_000 });
			const kept = await keptChunks(person, fileId);
			expect(kept).toBeGreaterThanOrEqual(8);
			expect(kept).toBeLessThan(COUNT);
			// The file shows where it stopped, paused, with Resume.
			await bubble.getByText(/Paused at \d+%/).waitFor({ timeout: 30_000 });
			expect(await progressValue(person.page, `Downloading ${name}`)).toBeGreaterThanOrEqual(kept * CHUNK);
			expect(asked).toHaveLength(1);
			expect(asked[0]).toMatch(/\/content$/);

			const resume = () => bubble.getByRole('button', { name: `Resume downloading ${name}` }).click();
			if (picker) {
				await pickIntoOpfs(person.page);
				await resume();
				await bubble.getByText('Downloaded').waitFor({ timeout: 120_000 });
				expect(await opfsFile(person.page, name)).toEqual({ size: data.length, sha256: sha256(data) });
			} else {
				const download = await saveDownload(person.page, resume);
				expect(await download.failure()).toBeNull();
				expect(sha256(readFileSync(await download.path()))).toBe(sha256(data));
				await bubble.getByText('Downloaded').waitFor({ timeout: 60_000 });
			}
			// The hub was asked once more, from the first chunk not kept.
			expect(asked).toHaveLength(2);
			expect(asked[1]).toMatch(new RegExp(`/content\\?from=${kept}$`));
			expect(await keptChunks(person, fileId)).toBe(COUNT);

			// A kept chunk altered on the device: the next opening refuses the file and forgets the copy.
			await person.page.evaluate(
				async ([dbName, id]) => {
					const open = indexedDB.open(dbName!);
					const db = await new Promise<IDBDatabase>(
						(resolve) => (open.onsuccess = () => resolve(open.result)),
					);
					const store = db.transaction('fileChunks', 'readwrite').objectStore('fileChunks');
					const read = store.get([id, 5]);
					const row = await new Promise<{ ciphertext: Uint8Array }>(
						(resolve) => (read.onsuccess = () => resolve(read.result)),
					);
					row.ciphertext[100]! ^= 1;
					await new Promise((resolve) => (store.put(row).onsuccess = resolve));
					db.close();
				},
				[`hourglass-${person.name}`, fileId],
			);
			const refusal = bubble.getByRole('alert').getByText(/altered or is incomplete.*nothing was saved/);
			if (picker) {
				await pickIntoOpfs(person.page);
				await bubble.getByRole('button', { name: `Download ${name}` }).click();
				await refusal.waitFor({ timeout: 30_000 });
				// The aborted writable left the file the picker named as it was: the good copy of before.
				expect(await opfsFile(person.page, name)).toEqual({ size: data.length, sha256: sha256(data) });
			} else {
				const download = await saveDownload(person.page, () =>
					bubble.getByRole('button', { name: `Download ${name}` }).click(),
				);
				await refusal.waitFor({ timeout: 30_000 });
				expect(await download.failure()).not.toBeNull();
			}
			expect(await keptChunks(person, fileId)).toBe(0);
			// Nothing was fetched for that opening: the copy was complete.
			expect(asked).toHaveLength(2);
			person.page.off('request', onRequest);
		}, 240_000);
	}

	/** Chunks of the large file below, and how many chunks must be in before its download is cut. */
	const BIG_CHUNK = 256 * 1024;
	const BIG_COUNT = 97;
	const CUT_AFTER_CHUNKS = 8;

	/**
	 * A file carol sends bob that is larger than every buffer between the hub and the page (the
	 * sockets', the browser's), so the hub is still sending when it stops; shown in bob's
	 * conversation, with the content requests his page makes from now on (`asked`).
	 */
	async function bigFileForBob(name: string) {
		const data = randomBytes((BIG_COUNT - 1) * BIG_CHUNK + 1000);
		const { fileId } = await carolSends(bob.name, name, data, BIG_CHUNK);
		await openConversation(bob, carol.username);
		const bubble = bob.page.locator('[data-file]', { hasText: name });
		await bubble.waitFor({ timeout: 30_000 });
		const asked: string[] = [];
		const onRequest = (request: Request) => {
			if (request.url().includes(`/api/files/${fileId}/content`)) asked.push(request.url());
		};
		bob.page.on('request', onRequest);
		return { data, fileId, bubble, asked, stopRecording: () => bob.page.off('request', onRequest) };
	}

	/** Starts bob's download of `name` over a slow link and runs `cut` once CUT_AFTER_CHUNKS are in. */
	async function downloadCutMidway(
		bubble: Locator,
		name: string,
		cut: () => Promise<void>,
	): Promise<Download> {
		const lift = await throttle(bob.page, 512 * 1024);
		try {
			const download = await saveDownload(bob.page, () =>
				bubble.getByRole('button', { name: `Download ${name}` }).click(),
			);
			await expect
				.poll(() => progressValue(bob.page, `Downloading ${name}`), { timeout: 60_000 })
				.toBeGreaterThanOrEqual(CUT_AFTER_CHUNKS * BIG_CHUNK);
			await cut();
			return download;
		} finally {
			await lift();
		}
	}

	it('goes on by itself when the hub restarts mid-download, asking only for what it lacked', async () => {
		const { data, fileId, bubble, asked, stopRecording } = await bigFileForBob('restart-dl.bin');
		const download = await downloadCutMidway(bubble, 'restart-dl.bin', async () => {
			// The stop cuts the stream it was sending (server/hub.ts, STOP_DRAIN_MS); the same port answers again.
			await hub.restart();
			expect(hub.url).toBe(new URL(bob.page.url()).origin);
		});
		expect(await download.failure()).toBeNull();
		expect(sha256(readFileSync(await download.path()))).toBe(sha256(data));
		await bubble.getByText('Downloaded').waitFor({ timeout: 60_000 });
		stopRecording();
		// Once from the start, then (after the tries that met no hub) from the first chunk it lacked.
		expect(asked[0]).toMatch(/\/content$/);
		const resumedAt = asked.slice(1).map((url) => Number(/\?from=(\d+)$/.exec(url)?.[1]));
		expect(resumedAt.length).toBeGreaterThanOrEqual(1);
		expect(resumedAt[0]).toBeGreaterThanOrEqual(CUT_AFTER_CHUNKS);
		expect(resumedAt.every((from, i) => from >= (resumedAt[i - 1] ?? 0))).toBe(true);
		expect(await keptChunks(bob, fileId)).toBe(BIG_COUNT);
	}, 240_000);

	it('waits while the hub is out of reach, then shows the download paused with why; Resume goes on from what it kept', async () => {
		const { data, fileId, bubble, asked, stopRecording } = await bigFileForBob('away-dl.bin');
		// From the cut on no file content reaches the page, as when the hub is down (the rest of the app still works).
		const pattern = '**/api/files/*/content*';
		const refuse = (route: Route) => route.abort('connectionrefused');
		const first = await downloadCutMidway(bubble, 'away-dl.bin', async () => {
			await bob.page.route(pattern, refuse);
			await hub.restart();
		});
		await bubble.getByText('Waiting for the connection…').waitFor({ timeout: 30_000 });
		// Past the tries (15.5 s of waiting): paused where it stopped, with the reason.
		await bubble.getByText(/Paused at \d+%/).waitFor({ timeout: 60_000 });
		await bubble.getByRole('alert').getByText('The hub could not be reached').waitFor();
		expect(await first.failure()).not.toBeNull();
		const kept = await keptChunks(bob, fileId);
		expect(kept).toBeGreaterThanOrEqual(CUT_AFTER_CHUNKS);
		expect(kept).toBeLessThan(BIG_COUNT);

		await bob.page.unroute(pattern, refuse);
		const second = await saveDownload(bob.page, () =>
			bubble.getByRole('button', { name: 'Resume downloading away-dl.bin' }).click(),
		);
		expect(await second.failure()).toBeNull();
		expect(sha256(readFileSync(await second.path()))).toBe(sha256(data));
		await bubble.getByText('Downloaded').waitFor({ timeout: 60_000 });
		expect(await bubble.getByRole('alert').count()).toBe(0);
		stopRecording();
		// What reached the hub after the outage began from the first chunk not kept.
		expect(asked.at(-1)).toMatch(new RegExp(`/content\\?from=${kept}$`));
	}, 240_000);

	it('cancels a download paused by a reload: what it kept is discarded', async () => {
		const CHUNK = 256 * 1024;
		const { fileId, messageId } = await carolSends(bob.name, 'dropped.bin', randomBytes(16 * CHUNK), CHUNK);
		await openConversation(bob, carol.username);
		const bubble = bob.page.locator('[data-file]', { hasText: 'dropped.bin' });
		await bubble.waitFor({ timeout: 30_000 });
		const lift = await throttle(bob.page, 512 * 1024);
		try {
			await saveDownload(bob.page, () =>
				bubble.getByRole('button', { name: 'Download dropped.bin' }).click(),
			);
			await expect.poll(() => keptChunks(bob, fileId), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
			await bob.page.reload();
		} finally {
			await lift();
		}
		await bubble.getByText(/Paused at \d+%/).waitFor({ timeout: 30_000 });
		await bubble.getByRole('button', { name: 'Cancel: Downloading dropped.bin' }).click();
		await bubble.getByRole('button', { name: 'Download dropped.bin' }).waitFor();
		expect(await bubble.getByText(/Paused at/).count()).toBe(0);
		await expect.poll(() => keptChunks(bob, fileId)).toBe(0);
		const copies = await storeRows<{ messageId: string }>(bob, 'fileCopies');
		expect(copies.filter((copy) => copy.messageId === messageId)).toEqual([]);
		// And after another reload, nothing comes back as paused.
		await bob.page.reload();
		await bubble.getByRole('button', { name: 'Download dropped.bin' }).waitFor({ timeout: 30_000 });
		expect(await bubble.getByText(/Paused at/).count()).toBe(0);
	}, 120_000);

	it('cancels a download: the save fails and nothing is kept', async () => {
		const { messageId } = await carolSends(bob.name, 'stopped.bin', randomBytes(2 * MiB));
		await openConversation(bob, carol.username);
		const bubble = bob.page.locator('[data-file]', { hasText: 'stopped.bin' });
		await bubble.waitFor({ timeout: 30_000 });
		// The hub's answer never comes: the download stays at its start until it is cancelled.
		const held: Route[] = [];
		const pattern = '**/api/files/*/content*';
		const handler = (route: Route) => void held.push(route);
		await bob.page.route(pattern, handler);
		try {
			const download = await saveDownload(bob.page, () =>
				bubble.getByRole('button', { name: 'Download stopped.bin' }).click(),
			);
			const bar = bubble.getByRole('progressbar', { name: 'Downloading stopped.bin' });
			await bar.waitFor({ timeout: 30_000 });
			await expect.poll(() => held.length, { timeout: 30_000 }).toBeGreaterThan(0);
			await bubble.getByRole('button', { name: 'Cancel: Downloading stopped.bin' }).click();
			await bar.waitFor({ state: 'detached' });
			await bubble.getByRole('button', { name: 'Download stopped.bin' }).waitFor();
			expect(await download.failure()).not.toBeNull();
			const copies = await storeRows<{ messageId: string }>(bob, 'fileCopies');
			expect(copies.filter((copy) => copy.messageId === messageId)).toEqual([]);
		} finally {
			await bob.page.unroute(pattern, handler);
			for (const route of held) await route.abort('failed').catch(() => undefined);
		}
	}, 120_000);

	it('refuses a tampered file with a clear message and saves nothing', async () => {
		const data = randomBytes(300_000);
		const uploaded = await uploadFile(carol.api, {
			size: data.length,
			async *read() {
				yield data;
			},
		});
		// The message announces another file's hash: what arrives does not match it.
		const wrongHash = new Uint8Array(uploaded.hash);
		wrongHash[0]! ^= 1;
		const envelope = await carol.messenger.sealBody(
			bob.name,
			{
				type: 'file',
				fileId: uploaded.fileId,
				key: toB64(uploaded.key),
				name: 'tampered.bin',
				mime: 'application/octet-stream',
				size: uploaded.size,
				chunkSize: uploaded.chunkSize,
				hash: toB64(wrongHash),
			},
			{ fileId: uploaded.fileId },
		);
		await carol.messenger.sendEnvelope(envelope);
		await openConversation(bob, carol.username);
		const bubble = bob.page.locator('[data-file]', { hasText: 'tampered.bin' });
		await bubble.waitFor({ timeout: 30_000 });
		const download = await saveDownload(bob.page, () =>
			bubble.getByRole('button', { name: 'Download tampered.bin' }).click(),
		);
		await bubble
			.getByRole('alert')
			.getByText(/altered or is incomplete.*nothing was saved/)
			.waitFor({
				timeout: 30_000,
			});
		expect(await download.failure()).not.toBeNull();
		const copies = await storeRows<{ messageId: string }>(bob, 'fileCopies');
		expect(copies.filter((copy) => copy.messageId === envelope.id)).toEqual([]);
	}, 120_000);
});
