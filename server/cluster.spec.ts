import { describe, expect, it } from 'vitest';
import { compareEntryIds, firstEntryId } from './cluster';

describe('the Redis stream helpers', () => {
	it('orders entry ids by time, then by sequence, past the range of a double', () => {
		expect(compareEntryIds('1796359512579-1', '1796359512579-1')).toBe(0);
		expect(compareEntryIds('1796359512579-1', '1796359512580-0')).toBe(-1);
		expect(compareEntryIds('1796359512580-0', '1796359512579-9')).toBe(1);
		expect(compareEntryIds('5-9007199254740993', '5-9007199254740992')).toBe(1);
	});

	it('reads the oldest kept entry out of an XINFO STREAM reply, flat or as a map', () => {
		const reply = [
			'length',
			100,
			'max-deleted-entry-id',
			'0-0',
			'entries-added',
			500,
			'first-entry',
			['1796359512579-1', ['k', '400']],
			'last-entry',
			['1796359512601-0', ['k', '499']],
		];
		expect(firstEntryId(reply)).toBe('1796359512579-1');
		expect(firstEntryId(new Map<string, unknown>([['first-entry', ['7-0', []]]]))).toBe('7-0');
		expect(firstEntryId(['length', 0, 'first-entry', null])).toBeNull();
		expect(firstEntryId('not a reply')).toBeNull();
	});
});
