import { describe, expect, it } from 'vitest';
import {
	SafetyCodeError,
	checkSafetyCode,
	encodeSafetyCode,
	isVerifiedPin,
	parseSafetyCode,
	verificationOf,
} from './verification';

const DIGITS = '123456789012345678901234567890123456789012345678901234567890';
const NUMBER = DIGITS.match(/.{5}/g)!.join(' ');
const OTHER = '9' + DIGITS.slice(1);

function problemOf(text: string): string {
	try {
		parseSafetyCode(text);
	} catch (error) {
		if (error instanceof SafetyCodeError) return error.problem;
		throw error;
	}
	return 'none';
}

describe('safety codes', () => {
	it('encode both names and the 60 digits, and read back what they encode', () => {
		const code = encodeSafetyCode('alice', 'bob', NUMBER);
		expect(code).toBe(`hourglass-safety:1:alice:bob:${DIGITS}`);
		expect(parseSafetyCode(code)).toEqual({ from: 'alice', to: 'bob', digits: DIGITS });
	});

	it('refuse to encode something that is not a safety number', () => {
		expect(() => encodeSafetyCode('alice', 'bob', '12345')).toThrow(/encodeSafetyCode/);
		expect(() => encodeSafetyCode('alice', 'bob', 'x'.repeat(60))).toThrow(/encodeSafetyCode/);
	});

	it('read a typed number with or without the spaces of its groups', () => {
		expect(parseSafetyCode(NUMBER).digits).toBe(DIGITS);
		expect(parseSafetyCode(`  ${DIGITS}\n`)).toEqual({ from: null, to: null, digits: DIGITS });
	});

	it('reject another version, bad names, a wrong length and non-digits', () => {
		expect(problemOf(`hourglass-safety:2:alice:bob:${DIGITS}`)).toBe('version');
		expect(problemOf(`hourglass-safety::alice:bob:${DIGITS}`)).toBe('version');
		expect(problemOf(`hourglass-safety:1:alice:bob:${DIGITS}:extra`)).toBe('format');
		expect(problemOf(`hourglass-safety:1:alice:${DIGITS}`)).toBe('format');
		expect(problemOf(`hourglass-safety:1:a:bob:${DIGITS}`)).toBe('format');
		expect(problemOf(`hourglass-safety:1:alice:b<b>:${DIGITS}`)).toBe('format');
		expect(problemOf(`hourglass-safety:1:alice:bob:${DIGITS.slice(1)}`)).toBe('length');
		expect(problemOf(`hourglass-safety:1:alice:bob:${DIGITS}0`)).toBe('length');
		expect(problemOf(`hourglass-safety:1:alice:bob:${DIGITS.slice(1)}a`)).toBe('digits');
		expect(problemOf(`hourglass-safety:1:alice:bob:${NUMBER}`)).toBe('digits');
		expect(problemOf(DIGITS.slice(0, 59))).toBe('length');
		expect(problemOf(`${DIGITS.slice(0, 30)}-${DIGITS.slice(30)}`)).toBe('digits');
		expect(problemOf('https://example.com/')).toBe('format');
		expect(problemOf('')).toBe('format');
	});
});

describe('checkSafetyCode', () => {
	it('matches the code the peer shows to me', () => {
		expect(checkSafetyCode(encodeSafetyCode('alice', 'bob', NUMBER), 'bob', 'alice', NUMBER)).toEqual({
			result: 'match',
		});
		expect(checkSafetyCode(NUMBER, 'bob', 'alice', NUMBER)).toEqual({ result: 'match' });
	});

	it('says mismatch for other digits and for a code made for another pair', () => {
		expect(checkSafetyCode(encodeSafetyCode('alice', 'bob', OTHER), 'bob', 'alice', NUMBER)).toEqual({
			result: 'mismatch',
			reason: 'number',
		});
		expect(checkSafetyCode(OTHER, 'bob', 'alice', NUMBER)).toEqual({ result: 'mismatch', reason: 'number' });
		// Carol's code for Bob, held up as if it were Alice's: even with equal digits, not a match.
		expect(checkSafetyCode(encodeSafetyCode('carol', 'bob', NUMBER), 'bob', 'alice', NUMBER)).toEqual({
			result: 'mismatch',
			reason: 'people',
		});
		expect(checkSafetyCode(encodeSafetyCode('alice', 'carol', NUMBER), 'bob', 'alice', NUMBER)).toEqual({
			result: 'mismatch',
			reason: 'people',
		});
	});

	it('tells my own code apart, and unreadable text', () => {
		expect(checkSafetyCode(encodeSafetyCode('bob', 'alice', NUMBER), 'bob', 'alice', NUMBER)).toEqual({
			result: 'own-code',
		});
		expect(checkSafetyCode('hello', 'bob', 'alice', NUMBER)).toEqual({
			result: 'unreadable',
			problem: 'format',
		});
	});
});

describe('isVerifiedPin', () => {
	const pin = { username: 'alice', signPk: 'S'.repeat(43), boxPk: 'B'.repeat(43), pinnedAt: 1 };

	it('holds for the keys that were verified, never for a re-pin', () => {
		const mark = verificationOf(pin, 2);
		expect(isVerifiedPin(pin, mark)).toBe(true);
		expect(isVerifiedPin({ ...pin, signPk: 'T'.repeat(43), pinnedAt: 3 }, mark)).toBe(false);
		expect(isVerifiedPin({ ...pin, boxPk: 'C'.repeat(43), pinnedAt: 3 }, mark)).toBe(false);
		expect(isVerifiedPin({ ...pin, username: 'carol' }, mark)).toBe(false);
		expect(isVerifiedPin(undefined, mark)).toBe(false);
		expect(isVerifiedPin(pin, undefined)).toBe(false);
	});
});
