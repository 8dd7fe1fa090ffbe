import { describe, expect, it } from 'vitest';
import { overlapCursor } from './messenger';

describe('overlapCursor', () => {
	it('moves a cursor back by the overlap window and sorts before every key of that millisecond', () => {
		const cursor = `${String(1_700_000_010_000).padStart(15, '0')}-0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b`;
		const back = overlapCursor(cursor, 10_000)!;
		expect(back).toBe(`${String(1_700_000_000_000).padStart(15, '0')}-`);
		expect(back < `${String(1_700_000_000_000).padStart(15, '0')}-0000`).toBe(true);
		expect(back < cursor).toBe(true);
	});

	it('keeps a fresh device at the start and ignores a cursor it cannot read', () => {
		expect(overlapCursor(null)).toBeNull();
		expect(overlapCursor('garbage')).toBeNull();
	});
});
