/**
 * Parses the `--unlock` date of a time-locked message. Two forms:
 * - ISO 8601: `2030-01-31`, `2030-01-31T09:00`, `2030-01-31T09:00:00.250`, `2030-01-31T09:00:00Z`,
 *   `2030-01-31T09:00:00+02:00`. Without an offset (or `Z`) the time is the local time, and a date
 *   alone means local midnight (unlike `Date.parse`, which reads a bare date as UTC).
 * - The form of the first version of the product, `DD:MM:YYYY:HH:MM:SS`, in local time.
 * Whether the date is in the future is for the hub to say, by its own clock.
 */
import { t } from './i18n';

export class UnlockDateError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'UnlockDateError';
	}
}

const ISO =
	/^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const LEGACY = /^(\d{1,2}):(\d{1,2}):(\d{4}):(\d{1,2}):(\d{1,2}):(\d{1,2})$/;

interface Parts {
	year: number;
	month: number;
	day: number;
	hour: number;
	minute: number;
	second: number;
	millisecond: number;
}

/** Milliseconds since the epoch of an unlock date written in either accepted form. */
export function parseUnlockDate(input: string): number {
	const text = input.trim();
	const iso = ISO.exec(text);
	if (iso) {
		const [, y, mo, d, h, mi, s, frac, zone] = iso;
		if (zone && h === undefined) {
			throw new UnlockDateError(t('unlock.zoneNeedsTime', { input }));
		}
		const parts: Parts = {
			year: Number(y),
			month: Number(mo),
			day: Number(d),
			hour: Number(h ?? 0),
			minute: Number(mi ?? 0),
			second: Number(s ?? 0),
			millisecond: frac ? Number(frac.padEnd(3, '0')) : 0,
		};
		checkParts(input, parts);
		return zone ? fromOffset(parts, zone) : fromLocal(input, parts);
	}
	const legacy = LEGACY.exec(text);
	if (legacy) {
		const [, d, mo, y, h, mi, s] = legacy.map(Number);
		const parts: Parts = { year: y, month: mo, day: d, hour: h, minute: mi, second: s, millisecond: 0 };
		checkParts(input, parts);
		return fromLocal(input, parts);
	}
	throw new UnlockDateError(t('unlock.notADate', { input }));
}

function daysInMonth(year: number, month: number): number {
	return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function checkParts(input: string, p: Parts): void {
	if (p.year < 1970) throw new UnlockDateError(t('unlock.year', { input }));
	if (p.month < 1 || p.month > 12) throw new UnlockDateError(t('unlock.month', { input, month: p.month }));
	if (p.day < 1 || p.day > daysInMonth(p.year, p.month)) {
		throw new UnlockDateError(t('unlock.day', { input, month: p.month, year: p.year, day: p.day }));
	}
	if (p.hour > 23 || p.minute > 59 || p.second > 59) {
		throw new UnlockDateError(t('unlock.time', { input }));
	}
}

function fromOffset(p: Parts, zone: string): number {
	const utc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.millisecond);
	if (zone.toUpperCase() === 'Z') return utc;
	const match = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
	if (!match) throw new UnlockDateError(t('unlock.zone', { zone }));
	const [, sign, hh, mm] = match;
	if (Number(hh) > 23 || Number(mm) > 59) throw new UnlockDateError(t('unlock.zone', { zone }));
	const offsetMs = (Number(hh) * 60 + Number(mm)) * 60_000;
	return sign === '+' ? utc - offsetMs : utc + offsetMs;
}

function fromLocal(input: string, p: Parts): number {
	const date = new Date(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.millisecond);
	// A local time that the clocks skip (the spring daylight-saving gap) comes back shifted: refuse it
	// rather than lock the message until a time the sender did not write.
	if (date.getHours() !== p.hour || date.getMinutes() !== p.minute || date.getDate() !== p.day) {
		throw new UnlockDateError(t('unlock.dst', { input }));
	}
	return date.getTime();
}
