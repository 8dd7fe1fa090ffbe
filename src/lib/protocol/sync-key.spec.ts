import { describe, expect, it } from 'vitest';
import { parseSyncKey, syncKeyFloor, syncKeyOf, syncKeyTime } from './sync-key';

describe('sync keys', () => {
	const id = '01890a5d-ac96-774b-bcce-b302099a8057';
	it('sort as text in the order of their times, ties broken by id', () => {
		const keys = [
			syncKeyOf(1_000, id),
			syncKeyOf(999, id),
			syncKeyOf(1_700_000_000_000, id),
			syncKeyOf(1_000, '0' + id),
		];
		const sorted = [...keys].sort();
		expect(sorted.map(syncKeyTime)).toEqual([999, 1_000, 1_000, 1_700_000_000_000]);
	});
	it('give their time back, and 0 for no cursor', () => {
		expect(syncKeyTime(syncKeyOf(1_795_000_000_123, id))).toBe(1_795_000_000_123);
		expect(syncKeyTime(null)).toBe(0);
		expect(syncKeyTime('garbage')).toBe(0);
	});
	it('parse into (time, id), the overlap cursor with an empty id, and nothing else', () => {
		expect(parseSyncKey(syncKeyOf(1_795_000_000_123, id))).toEqual({ at: 1_795_000_000_123, id });
		expect(parseSyncKey('001795000000123-')).toEqual({ at: 1_795_000_000_123, id: '' });
		expect(parseSyncKey('garbage')).toBeNull();
		expect(parseSyncKey('1795000000123-x')).toBeNull();
	});
	it('floor a time before every key of it, and never below the epoch', () => {
		expect(syncKeyFloor(1_795_000_000_123)).toBe('001795000000123-');
		expect(syncKeyFloor(1_795_000_000_123) < syncKeyOf(1_795_000_000_123, '0')).toBe(true);
		expect(syncKeyFloor(-5)).toBe('000000000000000-');
	});
});
