import { describe, expect, it } from 'vitest';
import { localeFromEnv, matchLocale, placeholders, pluralCategory, render, translator } from './catalog';
import { en } from './en';
import { fr } from './fr';

describe('the catalogs', () => {
	it('have the same keys in both languages', () => {
		expect(Object.keys(fr).sort()).toEqual(Object.keys(en).sort());
	});

	it('use the same placeholders in both languages, and plurals in the same places', () => {
		for (const [key, message] of Object.entries(en)) {
			const french = fr[key as keyof typeof fr];
			expect({ key, names: placeholders(french) }).toEqual({ key, names: placeholders(message) });
			expect({ key, plural: typeof french }).toEqual({ key, plural: typeof message });
		}
	});

	it('leave no French text empty', () => {
		for (const [key, message] of Object.entries(fr)) {
			const texts = typeof message === 'string' ? [message] : Object.values(message);
			for (const text of texts) expect({ key, empty: text.trim() === '' }).toEqual({ key, empty: false });
		}
	});
});

describe('plurals', () => {
	const waiting = en['login.waiting'];
	const attente = fr['login.waiting'];

	it('are singular for 1 only in English', () => {
		expect(render('en', waiting, { count: 0 })).toBe('0 new messages waiting.');
		expect(render('en', waiting, { count: 1 })).toBe('1 new message waiting.');
		expect(render('en', waiting, { count: 2 })).toBe('2 new messages waiting.');
	});

	it('are singular for 0 and 1 in French', () => {
		expect(pluralCategory('fr', 0)).toBe('one');
		expect(render('fr', attente, { count: 0 })).toBe('0 nouveau message en attente.');
		expect(render('fr', attente, { count: 1 })).toBe('1 nouveau message en attente.');
		expect(render('fr', attente, { count: 2 })).toBe('2 nouveaux messages en attente.');
	});

	it('write the number the way the language does', () => {
		expect(render('en', waiting, { count: 16000 })).toBe('16,000 new messages waiting.');
		expect(render('fr', attente, { count: 16000 })).toBe('16\u202f000 nouveaux messages en attente.');
	});
});

describe('choosing the locale', () => {
	it('follows the first of the browser languages we speak, else English', () => {
		expect(matchLocale(['de-DE', 'fr-CA', 'en'])).toBe('fr');
		expect(matchLocale(['en-GB', 'fr'])).toBe('en');
		expect(matchLocale(['de', 'ja'])).toBe('en');
		expect(matchLocale([])).toBe('en');
	});

	it('reads LC_ALL, then LC_MESSAGES, then LANG, as gettext does', () => {
		expect(localeFromEnv({ LANG: 'fr_FR.UTF-8' })).toBe('fr');
		expect(localeFromEnv({ LC_ALL: 'en_US.UTF-8', LANG: 'fr_FR.UTF-8' })).toBe('en');
		expect(localeFromEnv({ LC_MESSAGES: 'fr_BE', LANG: 'en_US' })).toBe('fr');
		expect(localeFromEnv({ LC_ALL: 'C', LANG: 'fr_FR' })).toBe('en');
		expect(localeFromEnv({ LANGUAGE: 'fr:en', LANG: 'de_DE.UTF-8' })).toBe('fr');
		expect(localeFromEnv({})).toBe('en');
	});

	it('gives a translator for one language', () => {
		const text = translator('fr', { en, fr });
		expect(text('push.from', { name: 'alice' })).toBe('Nouveau message de alice');
		expect(translator('en', { en, fr })('push.from', { name: 'alice' })).toBe('New message from alice');
	});
});
