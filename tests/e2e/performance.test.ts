import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { StoredEnvelope } from '../../src/lib/protocol';
import { call } from '../../src/lib/sdk';
import { WINDOW_MAX } from '../../src/lib/client/timeline';
import { startTestHub, type TestHub } from '../helpers/hub';
import { newUser, uniqueName as sdkName, type TestClient } from '../helpers/users';
import {
	DESKTOP,
	PASSWORD,
	launchChromium,
	messageLog,
	openConversation,
	openPerson,
	register,
	startConversation,
	uniqueName,
	type Person,
} from './support';

declare global {
	/** Set by the probe build (src/lib/client/probe.ts). */
	var __hourglassProbe: Record<string, number> | undefined;
}

// The probe build counts renders (src/lib/client/probe.ts); `npm test` makes it before the suite runs.
const PROBE_BUILD = resolve(import.meta.dirname, '../../build-probe');

let hub: TestHub;
let browser: Browser;
let sender: TestClient;
let reader: Person;
/** Ids the sender saw reported delivered (`message:status`). */
const delivered = new Set<string>();

beforeAll(async () => {
	if (!existsSync(resolve(PROBE_BUILD, 'index.html'))) {
		throw new Error('build-probe/ is missing: run `npm run build:probe` (npm test does) before these tests.');
	}
	hub = await startTestHub({ name: 'e2e_perf', env: { STATIC_DIR: PROBE_BUILD } });
	browser = await launchChromium();
	sender = await newUser(hub.url, sdkName('sender'));
	sender.socket.on('message:status', (status) => delivered.add(status.id));
	// A real client acknowledges what it receives: the reader's messages then show "Delivered".
	sender.socket.on('message:new', (envelope: StoredEnvelope) => void sender.messenger.receipt([envelope.id]));
	reader = await openPerson(browser, hub.url, uniqueName('reader'), DESKTOP);
	await register(reader);
});

afterAll(async () => {
	sender?.close();
	await browser?.close();
	await hub?.stop();
});

/** Render counts of the probe build, by row id (`row:<id>`) and clock ticks (`clock:second`). */
function probeCounts(page: Page): Promise<Record<string, number>> {
	return page.evaluate(() => ({ ...(globalThis.__hourglassProbe ?? {}) }));
}

/** What changed between two probe snapshots: name → renders in between. */
function probeDiff(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
	const diff: Record<string, number> = {};
	for (const [name, count] of Object.entries(after)) {
		const delta = count - (before[name] ?? 0);
		if (delta !== 0) diff[name] = delta;
	}
	return diff;
}

/** The ids of `peer`'s conversation as stored in the page's IndexedDB, in conversation order. */
function storedIds(page: Page, account: string, peer: string): Promise<string[]> {
	return page.evaluate(
		async ({ db, peer }) => {
			const open = indexedDB.open(db);
			const conn = await new Promise<IDBDatabase>((resolve, reject) => {
				open.onsuccess = () => resolve(open.result);
				open.onerror = () => reject(open.error);
			});
			const index = conn.transaction('messages').objectStore('messages').index('[peer+order]');
			const rows = await new Promise<{ id: string }[]>((resolve, reject) => {
				const all = index.getAll(IDBKeyRange.bound([peer, -Infinity], [peer, Infinity]));
				all.onsuccess = () => resolve(all.result as { id: string }[]);
				all.onerror = () => reject(all.error);
			});
			conn.close();
			return rows.map((row) => row.id);
		},
		{ db: `hourglass-${account}`, peer },
	);
}

/** The ids of the rows in the conversation's DOM, top to bottom. */
function shownIds(page: Page): Promise<string[]> {
	return page
		.getByRole('log')
		.locator('li[data-id]')
		.evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.id ?? ''));
}

/**
 * Sends `count` texts from `from` to `to`, `inFlight` at a time; returns the ids in conversation
 * order: by the hub's storage time, and by id within one millisecond (as the [peer+order] index has them).
 */
async function sendMany(
	from: TestClient,
	to: string,
	count: number,
	prefix: string,
	inFlight = 1,
): Promise<string[]> {
	const stored: { id: string; storedAt: number }[] = [];
	let next = 0;
	await Promise.all(
		Array.from({ length: inFlight }, async () => {
			while (next < count) {
				const { envelope, result } = await from.messenger.send(to, `${prefix} ${next++}`);
				stored.push({ id: envelope.id, storedAt: result.storedAt });
			}
		}),
	);
	return stored
		.sort((a, b) => a.storedAt - b.storedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
		.map((s) => s.id);
}

describe('the PWA keeps up', () => {
	it('ends the Argon2 worker once the keys are derived', async () => {
		await expect.poll(() => reader.page.workers().length, { timeout: 10_000 }).toBe(0);
	});

	it('takes a burst of 200 into an open conversation: all stored, in order, no duplicates, every receipt sent', async () => {
		await startConversation(reader, sender.username);
		const ids = await sendMany(sender, reader.name, 200, 'burst');
		await messageLog(reader)
			.locator(`li[data-id="${ids.at(-1)}"]`)
			.waitFor({ timeout: 30_000 });

		expect(await storedIds(reader.page, reader.name, sender.username)).toEqual(ids);
		const shown = await shownIds(reader.page);
		expect(new Set(shown).size).toBe(shown.length);
		// The screen holds the latest rows, in the same order as the history.
		expect(shown).toEqual(ids.slice(ids.length - shown.length));
		expect(shown.length).toBeLessThanOrEqual(WINDOW_MAX);
		await expect.poll(() => ids.filter((id) => !delivered.has(id)).length, { timeout: 30_000 }).toBe(0);
	});

	it('renders only the rows whose data changed, and runs the clock only for a countdown on screen', async () => {
		const page = reader.page;
		const start = await probeCounts(page);
		expect(Object.keys(start).some((name) => name.startsWith('row:'))).toBe(true);

		// A new message renders its own row and no other.
		const [fresh] = await sendMany(sender, reader.name, 1, 'one more');
		await messageLog(reader).locator(`li[data-id="${fresh}"]`).waitFor();
		const afterNew = await probeCounts(page);
		expect(probeDiff(start, afterNew)).toEqual({ [`row:${fresh}`]: 1 });

		// A reply goes sending → sent → delivered: only its row renders, once per state at most.
		await reader.page.getByLabel('Message', { exact: true }).fill('Got them all.');
		await reader.page.getByLabel('Message', { exact: true }).press('Enter');
		const reply = messageLog(reader).locator('li[data-status="delivered"]', { hasText: 'Got them all.' });
		await reply.waitFor({ timeout: 15_000 });
		const replyId = await reply.getAttribute('data-id');
		const afterReply = await probeCounts(page);
		const replyDiff = probeDiff(afterNew, afterReply);
		expect(Object.keys(replyDiff)).toEqual([`row:${replyId}`]);
		expect(replyDiff[`row:${replyId}`]).toBeLessThanOrEqual(3);
		// Nothing on screen counts down, so nothing read the ticking clock since the page opened.
		expect(afterReply['clock:second'] ?? 0).toBe(0);

		// A time-lock an hour away shows minutes: its countdown reads the minute clock, the second one stays still.
		const later = await sender.messenger.send(reader.name, 'Later.', {
			unlockAt: Date.now() + 3_600_000,
			announce: true,
		});
		const laterRow = messageLog(reader).locator(`li[data-id="${later.envelope.id}"][data-status="sealed"]`);
		await laterRow.waitFor();
		expect((await laterRow.locator('time.countdown').textContent())?.trim()).toMatch(/^(1 h 00|59) min$/);
		await page.waitForTimeout(2_500);
		expect((await probeCounts(page))['clock:second'] ?? 0).toBe(0);

		// One in its last two minutes shows seconds: the clock ticks, and still no other row renders again.
		const soon = await sender.messenger.send(reader.name, 'Soon.', {
			unlockAt: Date.now() + 100_000,
			announce: true,
		});
		const soonRow = messageLog(reader).locator(`li[data-id="${soon.envelope.id}"][data-status="sealed"]`);
		await soonRow.waitFor();
		expect((await soonRow.locator('time.countdown').textContent())?.trim()).toMatch(/^01:\d\d$/);
		await page.waitForFunction(() => (globalThis.__hourglassProbe?.['clock:second'] ?? 0) >= 3);
		const afterTicks = await probeCounts(page);
		const tickDiff = probeDiff(afterReply, afterTicks);
		delete tickDiff['clock:second'];
		expect(tickDiff).toEqual({ [`row:${later.envelope.id}`]: 1, [`row:${soon.envelope.id}`]: 1 });
		// Taken back, so that it does not open during the tests that follow.
		await call(sender.socket, 'timelock:cancel', { id: soon.envelope.id });
		await soonRow.waitFor({ state: 'detached' });
	});

	it('keeps every message typed while the one before is still being sent, in order', async () => {
		const texts: string[] = [];
		const arrived = (envelope: StoredEnvelope) =>
			void sender.messenger.open(envelope).then((m) => {
				if (m.text?.startsWith('quick ')) texts.push(m.text);
			});
		sender.socket.on('message:new', arrived);
		try {
			const field = reader.page.getByLabel('Message', { exact: true });
			const typed = Array.from({ length: 5 }, (_, i) => `quick ${i}`);
			for (const text of typed) {
				await field.fill(text);
				await field.press('Enter');
			}
			await expect.poll(() => texts.length, { timeout: 15_000 }).toBe(typed.length);
			expect(texts).toEqual(typed);
		} finally {
			sender.socket.off('message:new', arrived);
		}
	});

	it('syncs a first visit of 3,000 messages, opens the conversation at the latest one, and builds no search index until asked', async () => {
		const newcomer = await newUser(hub.url, sdkName('newcomer'), PASSWORD);
		newcomer.close();
		const ids = await sendMany(sender, newcomer.username, 3_000, 'history', 16);

		const person = await openPerson(browser, hub.url, newcomer.username, DESKTOP);
		try {
			const { page } = person;
			await page.goto('/');
			await page.getByLabel('Username', { exact: true }).fill(newcomer.username);
			await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
			await page.locator('form').getByRole('button', { name: 'Sign in' }).click();
			await page.locator(`[data-peer="${sender.username}"]`).waitFor({ timeout: 60_000 });
			await expect
				.poll(async () => (await storedIds(page, newcomer.username, sender.username)).length, {
					timeout: 60_000,
				})
				.toBe(3_000);
			expect(await storedIds(page, newcomer.username, sender.username)).toEqual(ids);

			await openConversation(person, sender.username);
			const latest = messageLog(person).locator(`li[data-id="${ids.at(-1)}"]`);
			await latest.waitFor();
			await expect.poll(() => inView(page, ids.at(-1) ?? '')).toBe(true);
			const shown = await shownIds(page);
			expect(shown).toEqual(ids.slice(ids.length - shown.length));

			// Scrolling up loads older messages, and the screen never holds more than the window.
			let oldest = ids.indexOf(shown[0]);
			for (let step = 0; step < 6; step++) {
				await page.getByRole('log').evaluate((log) => (log.scrollTop = 0));
				await expect.poll(async () => ids.indexOf((await shownIds(page))[0])).toBeLessThan(oldest);
				const now = await shownIds(page);
				expect(now.length).toBeLessThanOrEqual(WINDOW_MAX);
				const first = ids.indexOf(now[0]);
				expect(now).toEqual(ids.slice(first, first + now.length));
				oldest = first;
			}
			expect(oldest).toBeLessThan(ids.length - WINDOW_MAX);

			// Back to the newest with one press.
			await page.getByRole('button', { name: 'Latest messages' }).click();
			await latest.waitFor();
			await expect.poll(() => inView(page, ids.at(-1) ?? '')).toBe(true);

			// Nobody searched yet: no index was built for these 3,000 messages. The first search builds it.
			expect((await probeCounts(page))['search:build'] ?? 0).toBe(0);
			await page.keyboard.press('Control+K');
			await page.getByLabel('Words to find').fill('history 1234');
			const hits = page.getByRole('main').locator('li[data-id]');
			await expect.poll(() => hits.count(), { timeout: 30_000 }).toBe(1);
			expect(await hits.textContent()).toContain('history 1234');
			expect((await probeCounts(page))['search:build']).toBe(1);
			expect(person.errors).toEqual([]);
		} finally {
			await person.context.close();
		}
	});

	it('leaves the render counters out of the production build', () => {
		const scripts = (dir: string) =>
			readdirSync(dir, { recursive: true, encoding: 'utf8' })
				.filter((file) => file.endsWith('.js'))
				.map((file) => readFileSync(resolve(dir, file), 'utf8'));
		expect(scripts(PROBE_BUILD).some((code) => code.includes('__hourglassProbe'))).toBe(true);
		const production = resolve(PROBE_BUILD, '../build');
		expect(existsSync(resolve(production, 'index.html'))).toBe(true);
		expect(scripts(production).some((code) => code.includes('__hourglassProbe'))).toBe(false);
	});

	it('raised no error in the browser', () => {
		expect(reader.errors).toEqual([]);
	});
});

/** The row is inside the visible part of the message list. */
function inView(page: Page, id: string): Promise<boolean> {
	return page.getByRole('log').evaluate((log, rowId) => {
		const row = log.querySelector(`li[data-id="${rowId}"]`);
		if (!row) return false;
		const box = row.getBoundingClientRect();
		const view = log.getBoundingClientRect();
		return box.top >= view.top - 1 && box.bottom <= view.bottom + 1;
	}, id);
}
