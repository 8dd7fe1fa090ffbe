import { describe, expect, it } from 'vitest';
import { titleWithCount } from './attention.svelte';

describe('titleWithCount', () => {
	it('puts the unread count in front of the title, and takes it away at zero', () => {
		expect(titleWithCount('Hourglass', 3)).toBe('(3) Hourglass');
		expect(titleWithCount('(3) Hourglass', 4)).toBe('(4) Hourglass');
		expect(titleWithCount('(4) Sealed · Hourglass', 0)).toBe('Sealed · Hourglass');
		expect(titleWithCount('Hourglass', 0)).toBe('Hourglass');
	});

	it('caps the figure at 99+ and never stacks prefixes', () => {
		expect(titleWithCount('Hourglass', 150)).toBe('(99+) Hourglass');
		expect(titleWithCount('(99+) Hourglass', 2)).toBe('(2) Hourglass');
		expect(titleWithCount(titleWithCount('Hourglass', 5), 5)).toBe('(5) Hourglass');
	});
});
