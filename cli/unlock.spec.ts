import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnlockDateError, parseUnlockDate } from './unlock';

// A zone with daylight saving and a non-zero offset, so local-time handling is really exercised.
const previousTz = process.env.TZ;
beforeAll(() => {
	process.env.TZ = 'Europe/Paris';
});
afterAll(() => {
	if (previousTz === undefined) delete process.env.TZ;
	else process.env.TZ = previousTz;
});

describe('parseUnlockDate: ISO 8601', () => {
	it('reads an explicit UTC instant', () => {
		expect(parseUnlockDate('2030-01-31T09:00:00Z')).toBe(Date.UTC(2030, 0, 31, 9, 0, 0));
		expect(parseUnlockDate('2030-01-31T09:00:00.25z')).toBe(Date.UTC(2030, 0, 31, 9, 0, 0, 250));
	});

	it('applies an explicit offset', () => {
		expect(parseUnlockDate('2030-06-01T12:30:00+02:00')).toBe(Date.UTC(2030, 5, 1, 10, 30));
		expect(parseUnlockDate('2030-06-01T12:30-0530')).toBe(Date.UTC(2030, 5, 1, 18, 0));
	});

	it('reads a time without an offset as local time', () => {
		// Paris is UTC+1 in January and UTC+2 in July.
		expect(parseUnlockDate('2030-01-31T09:00')).toBe(Date.UTC(2030, 0, 31, 8, 0));
		expect(parseUnlockDate('2030-07-14 22:15:30')).toBe(Date.UTC(2030, 6, 14, 20, 15, 30));
	});

	it('reads a bare date as local midnight, not UTC midnight', () => {
		expect(parseUnlockDate('2030-01-31')).toBe(Date.UTC(2030, 0, 30, 23, 0));
	});

	it('ignores surrounding spaces', () => {
		expect(parseUnlockDate('  2030-01-31T09:00:00Z ')).toBe(Date.UTC(2030, 0, 31, 9));
	});
});

describe('parseUnlockDate: DD:MM:YYYY:HH:MM:SS', () => {
	it('reads the legacy form in local time', () => {
		expect(parseUnlockDate('31:01:2030:09:00:00')).toBe(Date.UTC(2030, 0, 31, 8, 0, 0));
		expect(parseUnlockDate('1:7:2030:8:5:9')).toBe(Date.UTC(2030, 6, 1, 6, 5, 9));
	});

	it('accepts the 29th of February in a leap year only', () => {
		expect(parseUnlockDate('29:02:2028:12:00:00')).toBe(Date.UTC(2028, 1, 29, 11));
		expect(() => parseUnlockDate('29:02:2029:12:00:00')).toThrow(/no day 29/);
	});
});

describe('parseUnlockDate: refusals', () => {
	it.each([
		['', /not a date/],
		['tomorrow', /not a date/],
		['March 7 2030', /not a date/],
		['1893456000000', /not a date/],
		['2030-13-01', /no month 13/],
		['2030-04-31', /no day 31/],
		['2030-01-31T24:00', /no such time/],
		['2030-01-31T09:60', /no such time/],
		['2030-01-31T09:00:61Z', /no such time/],
		['2030-01-31Z', /needs a time of day/],
		['2030-01-31T09:00+25:00', /not a time zone offset/],
		['31:01:2030:09:00', /not a date/],
		['32:01:2030:09:00:00', /no day 32/],
		['31:00:2030:09:00:00', /no month 0/],
		['0001-01-01T00:00Z', /1970 or later/],
	])('refuses %j', (input, message) => {
		expect(() => parseUnlockDate(input)).toThrow(UnlockDateError);
		expect(() => parseUnlockDate(input)).toThrow(message);
	});

	it('refuses a local time skipped by the daylight-saving change', () => {
		// On 2030-03-31 Paris clocks jump from 02:00 to 03:00.
		expect(() => parseUnlockDate('2030-03-31T02:30')).toThrow(/daylight-saving/);
		expect(() => parseUnlockDate('31:03:2030:02:30:00')).toThrow(/daylight-saving/);
		expect(parseUnlockDate('2030-03-31T03:30')).toBe(Date.UTC(2030, 2, 31, 1, 30));
	});
});
