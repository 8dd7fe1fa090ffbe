import { describe, expect, it } from 'vitest';
import { contactCardLink, parseContactCard } from './contacts';

const FP = '123456789012345678901234567890';

describe('contact cards', () => {
	it('round-trip through their link, the details in the fragment', () => {
		const link = contactCardLink('https://hub.example/', { username: 'bob', fingerprint: FP });
		expect(link).toBe(`https://hub.example/add#u=bob&fp=${FP}`);
		expect(parseContactCard(link)).toEqual({ username: 'bob', fingerprint: FP });
		expect(parseContactCard(`#u=bob&fp=${FP}`)).toEqual({ username: 'bob', fingerprint: FP });
	});

	it('normalise the username as people type it', () => {
		expect(parseContactCard(`https://h/add#u=Bob&fp=${FP}`)?.username).toBe('bob');
	});

	it('refuse links without a valid username or a 30-digit fingerprint', () => {
		for (const bad of [
			'https://h/add',
			`https://h/add?u=bob&fp=${FP}`,
			`https://h/add#fp=${FP}`,
			'https://h/add#u=bob',
			`https://h/add#u=bob&fp=${FP.slice(1)}`,
			`https://h/add#u=bob&fp=${FP}0`,
			`https://h/add#u=bob&fp=${FP.slice(1)}a`,
			`https://h/add#u=b&fp=${FP}`,
			`https://h/add#u=${'x'.repeat(40)}&fp=${FP}`,
		]) {
			expect(parseContactCard(bad), bad).toBeNull();
		}
	});
});
