import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseLanguage } from '../i18n';
import { en } from '../i18n/en';
import { fr } from '../i18n/fr';
import { ERROR_CODES, ProtocolError } from '../protocol';
import { ApiError } from '../sdk';
import {
	describeCountdown,
	errorText,
	formatCoarseCountdown,
	formatCountdown,
	formatExact,
	formatWhen,
	timerLabel,
} from './strings';

describe('formatCoarseCountdown', () => {
	it('shows minutes, then hours and minutes left, rounded up to the minute; from a day on, days and whole hours', () => {
		expect(formatCoarseCountdown(3_660_001)).toBe('1 h 02 min');
		expect(formatCoarseCountdown(2 * 86_400_000 + 3 * 3_600_000)).toBe('2 d 3 h');
		expect(formatCoarseCountdown(86_400_000 - 1)).toBe('1 d 0 h');
		expect(formatCoarseCountdown(86_400_000 - 60_001)).toBe('23 h 59 min');
		expect(formatCoarseCountdown(3_600_000)).toBe('1 h 00 min');
		expect(formatCoarseCountdown(3_600_000 - 1)).toBe('1 h 00 min');
		expect(formatCoarseCountdown(3_600_000 - 60_000)).toBe('59 min');
		expect(formatCoarseCountdown(42 * 60_000 - 30_000)).toBe('42 min');
		expect(formatCoarseCountdown(0)).toBe('0 min');
	});
});

describe('formatCountdown', () => {
	it('shows minutes and seconds, then hours, then days', () => {
		expect(formatCountdown(5_000)).toBe('00:05');
		expect(formatCountdown(65_000)).toBe('01:05');
		expect(formatCountdown(3_600_000 + 2_000)).toBe('01:00:02');
		expect(formatCountdown(2 * 86_400_000 + 3_723_000)).toBe('2 d 01:02:03');
	});

	it('rounds up, so it reads 00:00 only at the unlock, and never goes negative', () => {
		expect(formatCountdown(1)).toBe('00:01');
		expect(formatCountdown(0)).toBe('00:00');
		expect(formatCountdown(-5_000)).toBe('00:00');
	});

	it('has a coarse spoken form', () => {
		expect(describeCountdown(9_000)).toBe('9 seconds');
		expect(describeCountdown(1_000)).toBe('1 second');
		expect(describeCountdown(3_600_000)).toBe('1 hour');
		expect(describeCountdown(10 * 60_000)).toBe('10 minutes');
		expect(describeCountdown(3 * 86_400_000)).toBe('3 days');
	});
});

describe('errorText', () => {
	it('speaks of the code, not the hub message', () => {
		expect(errorText(new ApiError('USERNAME_TAKEN', 'E11000 duplicate key', 409))).toMatch(/already taken/);
		expect(errorText(new ApiError('INVALID_CREDENTIALS', 'nope', 401))).toBe('Wrong username or password.');
		expect(errorText(new ApiError('RATE_LIMITED', 'slow down', 429))).toMatch(/Too many attempts/);
		expect(errorText(new ApiError('UNAVAILABLE', 'fetch failed', 0))).toMatch(/cannot be reached/);
		expect(errorText(new ProtocolError('UNLOCK_IN_PAST', 'x'))).toMatch(/future/);
		expect(errorText(new ProtocolError('QUOTA_UNDELIVERED', '5000 wait for bob'))).toMatch(/still waiting/);
		expect(errorText(new ProtocolError('QUOTA_STORAGE', '268435456 bytes'))).toMatch(/space this hub allows/);
	});

	it('says how long a lockout or a rate limit lasts, and what still works', () => {
		expect(errorText(new ApiError('LOCKED_OUT', 'x', 429, 300))).toBe(
			'Too many failed sign-ins: this account is locked for devices the hub does not know. Try again in 5 minutes, or sign in on a device that signed in to it before.',
		);
		expect(errorText(new ApiError('LOCKED_OUT', 'x', 429))).toMatch(
			/A device that signed in to it before still can/,
		);
		expect(errorText(new ApiError('RATE_LIMITED', 'x', 429, 42))).toBe(
			'Too many attempts. Try again in 42 seconds.',
		);
		expect(errorText(new ProtocolError('RATE_LIMITED', 'x', { retryAfter: 1 }))).toBe(
			'Too many attempts. Try again in 1 second.',
		);
	});
});

describe('errorText for every code of the protocol', () => {
	const HUB_WORDS = 'the hub’s own words, in English';
	const frenchTexts = new Set(Object.values(fr).filter((m) => typeof m === 'string'));
	const englishTexts = new Set(Object.values(en).filter((m) => typeof m === 'string'));
	afterAll(() => chooseLanguage('en'));

	it.each(['en', 'fr'] as const)('has wording of its own in %s, never the hub’s message', async (locale) => {
		await chooseLanguage(locale);
		const texts = locale === 'fr' ? frenchTexts : englishTexts;
		for (const code of ERROR_CODES) {
			for (const error of [new ProtocolError(code, HUB_WORDS), new ApiError(code, HUB_WORDS, 400)]) {
				const text = errorText(error);
				expect({ code, text, catalog: texts.has(text) }).toEqual({ code, text, catalog: true });
			}
		}
	});

	it('names what was not found when the caller knows it', async () => {
		await chooseLanguage('en');
		const missing = new ApiError('NOT_FOUND', 'No such file.', 404);
		expect(errorText(missing, 'file')).toBe(en['error.NOT_FOUND.file']);
		expect(errorText(missing, 'message')).toBe(en['error.NOT_FOUND.message']);
		expect(errorText(missing, 'session')).toBe(en['error.NOT_FOUND.session']);
		expect(errorText(missing, 'user')).toBe('There is no user with that name.');
		expect(errorText(missing)).not.toMatch(/user/);
		expect(errorText(new ProtocolError('UNKNOWN_RECIPIENT', 'x'), 'message')).toBe(
			en['error.NOT_FOUND.user'],
		);
		// Another code is not a NOT_FOUND, whatever the caller expected.
		expect(errorText(new ProtocolError('NOT_CANCELLABLE', 'x'), 'message')).toBe(en['error.NOT_CANCELLABLE']);
		await chooseLanguage('fr');
		expect(errorText(missing, 'file')).toMatch(/^Ce fichier n’est plus sur le hub/);
		expect(errorText(missing, 'message')).toMatch(/^Ce message n’est plus sur le hub/);
	});

	it('keeps the text of an error of our own (not a hub refusal)', () => {
		expect(errorText(new Error('Ceci vient du PWA'))).toBe('Ceci vient du PWA');
	});
});

describe('timerLabel', () => {
	const shortened = { '5m': 6_000, '1h': 3_600_000, '1d': 86_400_000, '1w': 604_800_000 };

	it("names a timer by the hub's choice it is, even when a test hub shortened it", () => {
		expect(timerLabel(6_000, shortened)).toBe('5 minutes');
		expect(timerLabel(604_800_000, shortened)).toBe('1 week');
		expect(timerLabel(null, shortened)).toBe('off');
	});

	it('gives the length of a timer that is no choice (set by another hub or client)', () => {
		expect(timerLabel(300_000, shortened)).toBe('5 minutes');
		expect(timerLabel(45_000, null)).toBe('45 seconds');
		expect(timerLabel(3 * 3_600_000, null)).toBe('3 hours');
		expect(timerLabel(3 * 86_400_000, null)).toBe('3 days');
	});
});

describe('in French', () => {
	beforeAll(async () => {
		await chooseLanguage('fr');
	});
	afterAll(async () => {
		await chooseLanguage('en');
	});

	it('formats a date the French way', () => {
		const at = new Date(2026, 11, 7, 14, 5, 9).getTime();
		expect(formatExact(at)).toBe('07/12/2026 14:05:09');
		expect(formatWhen(at, new Date(2026, 0, 1).getTime())).toBe('7 déc. 2026, 14:05');
	});

	it('says lengths and countdowns with French words and plurals', () => {
		expect(describeCountdown(1_000)).toBe('1\u00a0seconde');
		expect(describeCountdown(3 * 86_400_000)).toBe('3\u00a0jours');
		expect(formatCountdown(2 * 86_400_000 + 3_723_000)).toBe('2 j 01:02:03');
		expect(timerLabel(null, null)).toBe('désactivé');
		expect(errorText(new ApiError('RATE_LIMITED', 'x', 429, 42))).toBe(
			'Trop de tentatives. Réessayez dans 42\u00a0secondes.',
		);
	});
});

describe('in English', () => {
	it('formats a date the English way', () => {
		const at = new Date(2026, 11, 7, 14, 5, 9).getTime();
		expect(formatExact(at)).toBe('12/7/26, 2:05:09 PM');
		expect(formatWhen(at, new Date(2026, 0, 1).getTime())).toBe('Dec 7, 2026, 2:05 PM');
	});
});
