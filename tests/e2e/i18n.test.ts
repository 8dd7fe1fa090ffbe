import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { translations as zxcvbnEnglish } from '@zxcvbn-ts/language-en';
import { en } from '../../src/lib/i18n/en';
import { fr } from '../../src/lib/i18n/fr';
import { startTestHub, type TestHub } from '../helpers/hub';
import { newUser, uniqueName as sdkName, type TestClient } from '../helpers/users';
import {
	DESKTOP,
	PASSWORD,
	axe,
	launchChromium,
	openPerson,
	screenshot,
	uniqueName,
	type Person,
} from './support';

/**
 * The English texts that must not show on a French screen: every catalog message whose French
 * differs, cut at its placeholders, keeping pieces long enough to mean something (not "OK", names)
 * and that French itself does not use ("Message", "Contacts", "Notifications" are French words too).
 */
const ENGLISH: string[] = (() => {
	const pieces = new Set<string>();
	const allFrench = Object.values(fr).flatMap((m) => (typeof m === 'string' ? [m] : Object.values(m)));
	for (const [key, message] of Object.entries(en)) {
		const french = fr[key as keyof typeof fr];
		const forms = typeof message === 'string' ? [message] : Object.values(message);
		const frenchForms = typeof french === 'string' ? [french] : Object.values(french);
		for (const form of forms) {
			if (frenchForms.includes(form)) continue;
			for (const piece of form.split(/\{\w+\}/)) {
				const text = piece.trim().replace(/[.:…]+$/, '');
				if (text.length >= 6 && !allFrench.some((f) => f.includes(text))) pieces.add(text);
			}
		}
	}
	return [...pieces];
})();

/** Everything a person can read or hear on the page: visible text, labels, placeholders, titles, alts. */
async function pageTexts(page: Page): Promise<string[]> {
	return page.evaluate(() => {
		const texts = [document.body.innerText, document.title];
		for (const el of document.querySelectorAll('[aria-label], [placeholder], [title], [alt]')) {
			for (const name of ['aria-label', 'placeholder', 'title', 'alt']) {
				const value = el.getAttribute(name);
				if (value) texts.push(value);
			}
		}
		for (const el of document.querySelectorAll('.sr-only')) texts.push(el.textContent ?? '');
		return texts;
	});
}

/** zxcvbn's English feedback: it does not come from our catalogs, so ENGLISH does not hold it. */
const ZXCVBN_ENGLISH: string[] = [
	...Object.values(zxcvbnEnglish.warnings),
	...Object.values(zxcvbnEnglish.suggestions),
];

async function zxcvbnEnglishLeft(page: Page): Promise<string[]> {
	const texts = (await pageTexts(page)).join('\n');
	return ZXCVBN_ENGLISH.filter((text) => texts.includes(text));
}

async function englishLeft(page: Page): Promise<string[]> {
	const texts = (await pageTexts(page)).join('\n');
	return ENGLISH.filter((piece) => texts.includes(piece));
}

/** axe's violations, one line each: where, not why (the a11y suite says why). */
async function axeFindings(page: Page): Promise<string[]> {
	return (await axe(page)).map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

let hub: TestHub;
let browser: Browser;
let person: Person;
let bob: TestClient;

beforeAll(async () => {
	hub = await startTestHub({ name: 'e2e_i18n' });
	browser = await launchChromium();
	bob = await newUser(hub.url, sdkName('bob'));
	person = await openPerson(browser, hub.url, uniqueName('zoe'), DESKTOP, {
		locale: 'fr-FR',
		bypassCSP: true,
	});
});

afterAll(async () => {
	await person?.context.close();
	bob?.close();
	await browser?.close();
	await hub?.stop();
});

/** The screens reached from the account menu, by path, and the catalog key of their heading. */
const SCREENS = {
	contacts: 'contacts.title',
	devices: 'devices.title',
	activity: 'activity.heading',
	search: 'searchPage.heading',
	sealed: 'sealedPage.heading',
	password: 'password.title',
} as const;

/** Both widths of what `page` shows, as `<prefix>-<name>-1280.png` and `-360.png`. */
async function pictures(who: Person, prefix: string, name: string): Promise<void> {
	await screenshot(who, `${prefix}-${name}-1280.png`);
	await who.page.setViewportSize({ width: 360, height: 740 });
	await screenshot(who, `${prefix}-${name}-360.png`);
	await who.page.setViewportSize(DESKTOP);
}

/** Goes to `path` as a link takes a person there (no reload, which would ask to unlock). */
async function follow(page: Page, path: string, heading: string): Promise<void> {
	await page.evaluate((to) => {
		const link = document.createElement('a');
		link.href = to;
		document.body.append(link);
		link.click();
		link.remove();
	}, `/${path}`);
	await page.waitForURL(`**/${path}`);
	await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
	if (path === 'devices') await page.locator('[data-session-id]').first().waitFor();
	if (path === 'activity') await page.locator('li[data-type]').first().waitFor();
}

describe('the app in French', () => {
	it('has English texts to look for (the check can fail)', () => {
		expect(ENGLISH).toContain('Create your account');
		expect(ZXCVBN_ENGLISH).toContain('Avoid repeated words and characters.');
		expect(ENGLISH.length).toBeGreaterThan(100);
	});

	it('opens in French in a French browser, with no English left on any main screen, and passes axe', async () => {
		const { page } = person;
		const screens: Record<string, { english: string[]; axe: string[] }> = {};
		const look = async (name: string) => {
			await page.evaluate(
				() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))),
			);
			screens[name] = { english: await englishLeft(page), axe: await axeFindings(page) };
			await pictures(person, 'fr', name);
		};

		await page.goto('/');
		await page.getByRole('button', { name: 'Se connecter' }).first().waitFor();
		expect(await page.evaluate(() => document.documentElement.lang)).toBe('fr');
		await look('sign-in');

		await page.getByRole('button', { name: 'Créer un compte' }).first().click();
		await page.getByLabel('Nom d’utilisateur', { exact: true }).fill(person.name);
		// A weak password: zxcvbn's verdict and advice in French (its French dictionary, loaded for it).
		await page.getByLabel('Mot de passe', { exact: true }).fill('aaaaaaaaaaaaaaaa');
		await page
			.getByText('Les caractères répétés comme «\u202faaa\u202f» sont faciles à deviner.')
			.waitFor({ timeout: 15_000 });
		await page.getByText('Évitez les mots et les caractères répétés.').waitFor();
		expect(await zxcvbnEnglishLeft(page)).toEqual([]);
		await look('register');
		await page.getByLabel('Mot de passe', { exact: true }).fill(PASSWORD);
		await page.getByText('Solide').first().waitFor({ timeout: 15_000 });
		await page.locator('form').getByRole('button', { name: 'Créer un compte' }).click();
		await page.waitForURL('**/chat', { timeout: 30_000 });
		await page.locator('[data-connection="online"]').waitFor({ timeout: 15_000 });
		await look('conversation-list');

		// A hub refusal in the PWA's own words, naming what was not found (the hub says "No user has this name.").
		await page.getByLabel('Nouvelle conversation').fill(uniqueName('nobody'));
		await page.getByRole('button', { name: 'Commencer' }).click();
		await page.getByText(fr['error.NOT_FOUND.user']).waitFor({ timeout: 15_000 });
		await page.getByLabel('Nouvelle conversation').fill(bob.username);
		await page.getByRole('button', { name: 'Commencer' }).click();
		await page.waitForURL(`**/chat/${bob.username}`);
		await page.getByLabel('Message', { exact: true }).fill('Bonjour Bob');
		await page.getByRole('button', { name: 'Envoyer' }).click();
		await page.locator('li[data-status="sent"]', { hasText: 'Bonjour Bob' }).waitFor({ timeout: 15_000 });
		await bob.messenger.send(person.name, 'Pour plus tard', {
			unlockAt: Date.now() + 3 * 86_400_000,
			announce: true,
		});
		await page.getByText(`Message scellé de ${bob.username}`).waitFor({ timeout: 15_000 });
		await look('conversation');

		await page.getByLabel(`Menu du compte ${person.name}`).click();
		await page.getByRole('link', { name: 'Réglages et sécurité' }).click();
		await page.waitForURL('**/settings');
		await page.getByRole('heading', { name: 'Réglages', level: 1 }).waitFor();
		await look('settings');

		// The other screens, reached as a link takes a person there (no reload, which would ask to unlock).
		for (const [path, key] of Object.entries(SCREENS)) {
			await follow(page, path, fr[key]);
			await look(path);
		}
		await page.getByLabel(`Menu du compte ${person.name}`).click();
		await page.getByRole('link', { name: 'Réglages et sécurité' }).click();
		await page.getByRole('heading', { name: 'Réglages', level: 1 }).waitFor();

		expect(screens).toEqual(
			Object.fromEntries(Object.keys(screens).map((name) => [name, { english: [], axe: [] }])),
		);
	});

	it('switches to English from Settings at once, and stays English after a reload (pictures of the English screens on the way)', async () => {
		const { page } = person;
		const select = page.getByLabel('Langue de l’application');
		await select.focus();
		await select.selectOption('en');
		await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor({ timeout: 5_000 });
		expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
		expect(await page.getByRole('link', { name: /^Chats/ }).count()).toBe(1);

		// The same screens in English, at both widths, for the docs (what French shows in fr-*).
		await pictures(person, 'en', 'settings');
		for (const [path, key] of Object.entries(SCREENS)) {
			await follow(page, path, en[key]);
			await pictures(person, 'en', path);
		}
		await page.getByRole('link', { name: /^Chats/ }).click();
		await page.waitForURL('**/chat');
		await pictures(person, 'en', 'conversation-list');
		await page
			.getByRole('link', { name: new RegExp(bob.username) })
			.first()
			.click();
		await page.waitForURL(`**/chat/${bob.username}`);
		await page.locator('li[data-status]', { hasText: 'Bonjour Bob' }).waitFor();
		await pictures(person, 'en', 'conversation');

		// Signed out, in an English browser: the first screens a newcomer sees.
		const newcomer = await openPerson(browser, hub.url, uniqueName('newcomer'), DESKTOP);
		try {
			await newcomer.page.goto('/');
			await newcomer.page.getByRole('button', { name: 'Sign in' }).first().waitFor();
			await pictures(newcomer, 'en', 'sign-in');
			await newcomer.page.getByRole('button', { name: 'Create account' }).first().click();
			await newcomer.page.getByLabel('Username', { exact: true }).fill(newcomer.name);
			await newcomer.page.getByLabel('Password', { exact: true }).fill('aaaaaaaaaaaaaaaa');
			await newcomer.page.getByText('Avoid repeated words and characters.').waitFor({ timeout: 15_000 });
			await pictures(newcomer, 'en', 'register');
		} finally {
			await newcomer.context.close();
		}

		await follow(page, 'settings', 'Settings');
		await page.reload();
		await page
			.getByRole('heading', { level: 1, name: /^(Settings|Unlock Hourglass)$/ })
			.waitFor({ timeout: 15_000 });
		expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
		expect(person.errors).toEqual([]);
	});
});
