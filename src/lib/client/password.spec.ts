import { describe, expect, it } from 'vitest';
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
