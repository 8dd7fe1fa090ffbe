import { afterEach, describe, expect, it } from 'vitest';
import { placeholders } from '../../src/lib/i18n/catalog';
import { formatActivity, formatDuration, formatWait } from '../format';
import { COMMAND_NAMES, usageText } from '../args';
import { cliEn } from './en';
import { cliFr } from './fr';
import { setCliLocale, t } from '.';

afterEach(() => {
	setCliLocale({});
});

describe('the command line in French and English', () => {
	it('has the same placeholders in both languages, for every text and every plural form', () => {
		for (const key of Object.keys(cliEn) as (keyof typeof cliEn)[]) {
			expect(placeholders(cliFr[key]), key).toEqual(placeholders(cliEn[key]));
		}
	});

	it('picks the language from the environment as GNU programs do', () => {
		expect(setCliLocale({})).toBe('en');
		expect(setCliLocale({ LANG: 'fr_FR.UTF-8' })).toBe('fr');
		expect(setCliLocale({ LC_ALL: 'C', LANG: 'fr_FR.UTF-8' })).toBe('en');
		expect(setCliLocale({ LC_MESSAGES: 'fr_CA.UTF-8', LANG: 'en_GB.UTF-8' })).toBe('fr');
		expect(setCliLocale({ LANGUAGE: 'fr:en', LANG: 'de_DE.UTF-8' })).toBe('fr');
		expect(setCliLocale({ LANG: 'de_DE.UTF-8' })).toBe('en');
	});

	it('chooses plural forms by the language’s rules: 0 and 1 are singular in French, only 1 in English', () => {
		setCliLocale({ LANG: 'fr_FR.UTF-8' });
		expect(t('sessions.revokedOthers', { count: 0 })).toBe('0 autre appareil déconnecté.');
		expect(t('sessions.revokedOthers', { count: 1 })).toBe('1 autre appareil déconnecté.');
		expect(t('sessions.revokedOthers', { count: 2 })).toBe('2 autres appareils déconnectés.');
		setCliLocale({ LANG: 'en_US.UTF-8' });
		expect(t('sessions.revokedOthers', { count: 0 })).toBe('Signed out 0 other devices.');
		expect(t('sessions.revokedOthers', { count: 1 })).toBe('Signed out 1 other device.');
	});

	it('writes durations and waits in the language’s own units', () => {
		setCliLocale({ LANG: 'fr_FR.UTF-8' });
		expect(formatDuration(200_000)).toBe('3 min 20 s');
		expect(formatDuration(4 * 86_400_000 + 3 * 3_600_000)).toBe('4 j 3 h');
		expect(formatWait(120_000)).toBe('2 minutes');
		// Intl puts a no-break space between a number and its unit in French.
		expect(formatWait(3 * 3_600_000)).toBe('3\u00a0heures');
		setCliLocale({});
		expect(formatDuration(200_000)).toBe('3m 20s');
		expect(formatWait(30_000)).toBe('30 seconds');
	});

	it('describes the activity log in the language, as the PWA does', () => {
		const event = { id: 'e1', type: 'sign-in', at: 0, newDevice: true, device: null, place: null } as const;
		setCliLocale({ LANG: 'fr_FR.UTF-8' });
		const [header, row] = formatActivity([event]);
		expect(header).toMatch(/QUAND +QUOI +APPAREIL +DEPUIS/);
		expect(row).toContain('Connexion depuis un nouvel appareil');
		setCliLocale({});
		expect(formatActivity([event])[1]).toContain('Signed in from a new device');
	});

	it('lists every command in the help of both languages', () => {
		for (const env of [{}, { LANG: 'fr_FR.UTF-8' }]) {
			setCliLocale(env);
			const help = usageText();
			for (const name of COMMAND_NAMES) expect(help, name).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
		}
		expect(usageText()).toContain('Commandes :');
		setCliLocale({});
		expect(usageText()).toContain('Commands:');
		expect(usageText()).not.toContain('Commandes');
	});
});
