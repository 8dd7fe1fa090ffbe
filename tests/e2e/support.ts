import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * Screenshots go to test-results/ (ignored) so a test run leaves the tree clean; with
 * UPDATE_SCREENSHOTS=1 they replace the committed ones under docs/screenshots/.
 */
export const SCREENSHOTS = resolve(
	ROOT,
	process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : 'test-results/screenshots',
);

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

/** A password zxcvbn rates strong, so sign-up is not refused for being guessable. */
export const PASSWORD = 'amber orbit canyon lantern 42';

/** Debian's Chromium (or CHROMIUM_PATH), headless; `args` add to its flags (a DevTools port, say). */
export function launchChromium(args: string[] = []): Promise<Browser> {
	return chromium.launch({
		executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
		args: [
			'--no-sandbox',
			'--disable-gpu',
			'--disable-quic',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
			...args,
		],
	});
}

export interface Person {
	name: string;
	context: BrowserContext;
	page: Page;
	/** Page errors and console errors, to fail the test with what the browser saw. */
	errors: string[];
}

/** A unique username per run: the tests share one database server. */
export function uniqueName(base: string): string {
	return `${base}${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.slice(0, 32);
}

export async function openPerson(
	browser: Browser,
	baseUrl: string,
	name: string,
	viewport: { width: number; height: number },
	options: { clockSkewMs?: number; bypassCSP?: boolean; locale?: string } = {},
): Promise<Person> {
	const context = await browser.newContext({
		viewport,
		baseURL: baseUrl,
		locale: options.locale ?? 'en-GB',
		timezoneId: 'UTC',
		// Only to inject a test tool (axe-core) into the page; the app itself runs under its CSP.
		bypassCSP: options.bypassCSP ?? false,
	});
	if (options.clockSkewMs) {
		// A device whose clock is wrong: the app must count down by the hub's clock, not this one.
		await context.addInitScript((skew: number) => {
			const realNow = Date.now.bind(Date);
			Date.now = () => realNow() + skew;
		}, options.clockSkewMs);
	}
	const page = await context.newPage();
	const errors: string[] = [];
	page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
	page.on('console', (message) => {
		// A request refused while the test switched the network off is expected; anything else is a bug.
		if (
			message.type() === 'error' &&
			!/net::ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(message.text())
		) {
			errors.push(`console: ${message.text()}`);
		}
	});
	return { name, context, page, errors };
}

/** Creates the account through the UI: the labelled form, the strength check, Argon2id in a worker. */
export async function register(person: Person): Promise<void> {
	const { page } = person;
	await page.goto('/');
	await page.getByRole('button', { name: 'Create account' }).first().click();
	await page.getByLabel('Username', { exact: true }).fill(person.name);
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await page.locator('form').getByRole('button', { name: 'Create account' }).click();
	await page.waitForURL('**/chat', { timeout: 30_000 });
	await page.locator('[data-connection="online"]').waitFor({ timeout: 15_000 });
}

/** Signs an existing account in through the sign-in form, trusting the device or not. */
export async function signIn(person: Person, options: { trust: boolean } = { trust: false }): Promise<void> {
	const { page } = person;
	await page.goto('/');
	await page.getByLabel('Username', { exact: true }).fill(person.name);
	await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
	if (options.trust) await page.getByLabel(/Trust this device/).check();
	await page.locator('form').getByRole('button', { name: 'Sign in' }).click();
	await page.waitForURL('**/chat', { timeout: 30_000 });
	await page.locator('[data-connection="online"]').waitFor({ timeout: 15_000 });
}

/**
 * Adds `peer` as a contact from the Contacts page, as a user does before a first message arrives:
 * their messages then reach the chat list rather than Message requests.
 */
export async function addContact(person: Person, peer: string): Promise<void> {
	const { page } = person;
	const nav = page.getByRole('navigation', { name: 'Main' });
	await nav.getByRole('link', { name: 'Contacts', exact: true }).click();
	await page.getByLabel('Add a contact: a username or a contact card link').fill(peer);
	await page.getByRole('button', { name: 'Add', exact: true }).click();
	// Adding opens the conversation; the Contacts page then lists the contact as accepted.
	await page.waitForURL(`**/chat/${peer}`, { timeout: 15_000 });
	await nav.getByRole('link', { name: 'Contacts', exact: true }).click();
	await page.locator(`[data-contact="${peer}"][data-state="accepted"]`).waitFor({ timeout: 15_000 });
	await nav.getByRole('link', { name: /^Chats/ }).click();
	await page.waitForURL('**/chat');
}

export async function startConversation(person: Person, peer: string): Promise<void> {
	const { page } = person;
	await page.getByLabel('New conversation').fill(peer);
	await page.getByRole('button', { name: 'Start' }).click();
	await page.waitForURL(`**/chat/${peer}`);
}

export async function openConversation(person: Person, peer: string): Promise<void> {
	await person.page.locator(`[data-peer="${peer}"] a`).click();
	await person.page.waitForURL(`**/chat/${peer}`);
}

export async function send(person: Person, text: string): Promise<void> {
	await person.page.getByLabel('Message', { exact: true }).fill(text);
	await person.page.getByLabel('Message', { exact: true }).press('Enter');
}

/**
 * The first exchange most tests start from: `from` writes `text` to `to` in a new conversation, and
 * `to` opens it from the chat list and sees it there (`where` narrows the place, e.g. the timeline).
 */
export async function firstMessage(
	from: Person,
	to: Person,
	text: string,
	where: (person: Person) => Locator = messageLog,
): Promise<void> {
	await startConversation(from, to.name);
	await send(from, text);
	await to.page.locator(`[data-peer="${from.name}"]`).waitFor({ timeout: 15_000 });
	await openConversation(to, from.name);
	await where(to).getByText(text).waitFor({ timeout: 15_000 });
}

/** The conversation's message list (the live log), where a message shows once it is readable. */
export function messageLog(person: Person) {
	return person.page.getByRole('log');
}

/** Resolves when the service worker is active, i.e. the shell is precached and offline reloads work. */
export async function serviceWorkerReady(person: Person): Promise<void> {
	await person.page.evaluate(async () => {
		const registration = await navigator.serviceWorker.ready;
		if (!registration.active) throw new Error('no active service worker');
		// Activated is not yet in charge: until it has claimed the page, a reload may still go to the
		// network (and fail offline).
		if (registration.active.state !== 'activated') {
			const worker = registration.active;
			await new Promise<void>((resolve) => {
				worker.addEventListener('statechange', () => worker.state === 'activated' && resolve());
				if (worker.state === 'activated') resolve();
			});
		}
		if (!navigator.serviceWorker.controller) {
			await new Promise<void>((resolve) =>
				navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }),
			);
		}
	});
}

export async function screenshot(person: Person, file: string): Promise<void> {
	mkdirSync(SCREENSHOTS, { recursive: true });
	// Toasts come and go: the pictures in the docs show the screen itself, in either language.
	const closers = person.page.locator('section.toasts button.close');
	await person.page.evaluate(() => {
		for (const close of document.querySelectorAll<HTMLButtonElement>('section.toasts button.close'))
			close.click();
	});
	await closers.first().waitFor({ state: 'detached' });
	await person.page.screenshot({ path: resolve(SCREENSHOTS, file), animations: 'disabled' });
}

/** The value a datetime-local input takes for an instant, in the browser's time zone (UTC here). */
export function toLocalInput(ms: number): string {
	return new Date(ms).toISOString().slice(0, 19);
}

/** Every record of every store of an IndexedDB database of the page's origin, as JSON (to look for what must not be there). */
export async function dumpDatabase(page: Page, name: string): Promise<string> {
	return page.evaluate(async (dbName) => {
		const open = indexedDB.open(dbName);
		const db = await new Promise<IDBDatabase>((resolve, reject) => {
			open.onsuccess = () => resolve(open.result);
			open.onerror = () => reject(open.error);
		});
		const out: Record<string, unknown[]> = {};
		for (const store of Array.from(db.objectStoreNames)) {
			const all = db.transaction(store).objectStore(store).getAll();
			out[store] = await new Promise<unknown[]>((resolve) => (all.onsuccess = () => resolve(all.result)));
		}
		db.close();
		return JSON.stringify(out);
	}, name);
}

/** axe-core's browser build, injected into a page whose context bypasses the CSP for it alone. */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa', 'best-practice'];

export interface AxeViolation {
	id: string;
	impact: string | null;
	help: string;
	nodes: { target: string[]; failureSummary?: string }[];
}

/** Runs axe over the whole page as it is now (open `person` with `bypassCSP`); its violations. */
export async function axe(page: Page): Promise<AxeViolation[]> {
	if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
	return page.evaluate(async (tags) => {
		const run = (window as unknown as { axe: { run: (...args: unknown[]) => Promise<unknown> } }).axe.run;
		const result = (await run(document, { runOnly: { type: 'tag', values: tags } })) as {
			violations: AxeViolation[];
		};
		return result.violations.map((v) => ({
			id: v.id,
			impact: v.impact,
			help: v.help,
			nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
		}));
	}, AXE_TAGS);
}
