import { UsernameInput } from '../protocol';
import type { PinnedKeys } from './messenger';

/**
 * What a safety QR code holds: `hourglass-safety:1:<shown by>:<shown to>:<60 digits>`. The names
 * say whose screen it came from, so that scanning one's own code, or a code made for someone
 * else, is told apart from a safety number that does not match.
 */
export const SAFETY_CODE_PREFIX = 'hourglass-safety';
export const SAFETY_CODE_VERSION = 1;
export const SAFETY_DIGITS = 60;

/** The user compared the safety number for exactly these keys of `username` (never inherited by a re-pin). */
export interface Verification {
	username: string;
	signPk: string;
	boxPk: string;
	verifiedAt: number;
}

/** A safety number as 60 digits, with the spaces of its groups taken out. */
export function safetyDigits(number: string): string {
	return number.replace(/\s+/g, '');
}

/** The QR payload `from` shows to `to` for their safety number. */
export function encodeSafetyCode(from: string, to: string, number: string): string {
	const digits = safetyDigits(number);
	if (!/^\d{60}$/.test(digits))
		throw new Error(`encodeSafetyCode: a safety number has ${SAFETY_DIGITS} digits`);
	return `${SAFETY_CODE_PREFIX}:${SAFETY_CODE_VERSION}:${from}:${to}:${digits}`;
}

export type SafetyCodeProblem =
	/** Neither a safety code nor a safety number. */
	| 'format'
	/** A safety code of a version this app does not read. */
	| 'version'
	/** Not 60 digits. */
	| 'length'
	/** Something else than digits where the number goes. */
	| 'digits';

export class SafetyCodeError extends Error {
	constructor(
		readonly problem: SafetyCodeProblem,
		message: string,
	) {
		super(message);
		this.name = 'SafetyCodeError';
	}
}

/** A scanned or pasted safety code: the QR payload (with both names), or the bare 60 digits. */
export interface SafetyCode {
	from: string | null;
	to: string | null;
	digits: string;
}

/** Reads a QR payload or a typed safety number (digits with or without spaces); throws SafetyCodeError. */
export function parseSafetyCode(text: string): SafetyCode {
	const trimmed = text.trim();
	if (trimmed.startsWith(`${SAFETY_CODE_PREFIX}:`)) {
		const parts = trimmed.split(':');
		if (parts[1] !== String(SAFETY_CODE_VERSION)) {
			throw new SafetyCodeError(
				'version',
				'parseSafetyCode: this safety code is of a version this app does not read',
			);
		}
		if (parts.length !== 5)
			throw new SafetyCodeError('format', 'parseSafetyCode: a safety code has five parts');
		const from = UsernameInput.safeParse(parts[2]);
		const to = UsernameInput.safeParse(parts[3]);
		if (!from.success || !to.success) throw new SafetyCodeError('format', 'parseSafetyCode: bad usernames');
		return { from: from.data, to: to.data, digits: checkDigits(parts[4]) };
	}
	if (!/^[\d\s]+$/.test(trimmed)) {
		throw new SafetyCodeError(
			/\d/.test(trimmed) ? 'digits' : 'format',
			'parseSafetyCode: not a safety number',
		);
	}
	return { from: null, to: null, digits: checkDigits(safetyDigits(trimmed)) };
}

function checkDigits(digits: string): string {
	if (!/^\d*$/.test(digits))
		throw new SafetyCodeError('digits', 'parseSafetyCode: only digits make a safety number');
	if (digits.length !== SAFETY_DIGITS) {
		throw new SafetyCodeError('length', `parseSafetyCode: a safety number has ${SAFETY_DIGITS} digits`);
	}
	return digits;
}

export type SafetyCheck =
	| { result: 'match' }
	/** The numbers differ, or the code was made for another pair of people. */
	| { result: 'mismatch'; reason: 'number' | 'people' }
	/** The user's own code, shown back to them: nothing was compared. */
	| { result: 'own-code' }
	| { result: 'unreadable'; problem: SafetyCodeProblem };

/** Compares what `me` scanned or typed with the safety number this device computes for `me` and `peer`. */
export function checkSafetyCode(text: string, me: string, peer: string, number: string): SafetyCheck {
	let code: SafetyCode;
	try {
		code = parseSafetyCode(text);
	} catch (error) {
		if (error instanceof SafetyCodeError) return { result: 'unreadable', problem: error.problem };
		throw error;
	}
	if (code.from !== null) {
		if (code.from === me && code.to === peer) return { result: 'own-code' };
		if (code.from !== peer || code.to !== me) return { result: 'mismatch', reason: 'people' };
	}
	return code.digits === safetyDigits(number)
		? { result: 'match' }
		: { result: 'mismatch', reason: 'number' };
}

/** True when `verification` was made for exactly the keys pinned now. */
export function isVerifiedPin(pin: PinnedKeys | undefined, verification: Verification | undefined): boolean {
	return (
		pin !== undefined &&
		verification !== undefined &&
		pin.username === verification.username &&
		pin.signPk === verification.signPk &&
		pin.boxPk === verification.boxPk
	);
}

/** The mark for the keys pinned now. */
export function verificationOf(pin: PinnedKeys, at: number): Verification {
	return { username: pin.username, signPk: pin.signPk, boxPk: pin.boxPk, verifiedAt: at };
}
