import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseLanguage } from '../i18n';
import { checkStrength } from './password';

describe('checkStrength', () => {
	it('refuses short passwords whatever their letters', async () => {
		const result = await checkStrength('Zq8#vL2!pT');
		expect(result.acceptable).toBe(false);
		expect(result.reason).toMatch(/at least 12/);
	});

	it('refuses long but common or patterned passwords', async () => {
		for (const password of ['password1234', 'qwertyuiop123', '123456789012', 'iloveyou2024!']) {
			const result = await checkStrength(password);
			expect(result.acceptable, password).toBe(false);
			expect(result.score, password).toBeLessThan(3);
		}
	});

	it('refuses a password made of the username', async () => {
		const result = await checkStrength('margaret.hamilton1', ['margaret.hamilton']);
		expect(result.acceptable).toBe(false);
	});

	it('accepts a passphrase, with no composition rules', async () => {
		const result = await checkStrength('amber orbit canyon lantern');
		expect(result.acceptable).toBe(true);
		expect(result.score).toBeGreaterThanOrEqual(3);
	});
});

describe('checkStrength in French', () => {
	beforeAll(() => chooseLanguage('fr'));
	afterAll(() => chooseLanguage('en'));

	it('gives zxcvbn’s feedback in French, with French typography', async () => {
		const result = await checkStrength('aaaaaaaaaaaaaaaa');
		expect(result.acceptable).toBe(false);
		expect(result.warning).toBe('Les caractères répétés comme «\u202faaa\u202f» sont faciles à deviner.');
		expect(result.reason).toBe(result.warning);
		expect(result.suggestions).toContain('Évitez les mots et les caractères répétés.');
		expect(result.label).toBe('Très faible');
	});

	it('knows French words, which English alone would take for random letters', async () => {
		for (const password of ['parapluiejaune', 'boulangeriefromage']) {
			expect((await checkStrength(password)).acceptable, password).toBe(false);
			await chooseLanguage('en');
			expect((await checkStrength(password)).acceptable, password).toBe(true);
			await chooseLanguage('fr');
		}
		expect((await checkStrength('password1234')).acceptable).toBe(false);
	});
});
