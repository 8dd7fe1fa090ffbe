import { describe, expect, it } from 'vitest';
import { lockedUntil, overLimit, retryAfterMs, windowIndex, type LockoutPolicy } from './policy';

const MINUTE = 60_000;
const policy: LockoutPolicy = { failures: 3, baseMs: MINUTE, maxMs: 8 * MINUTE, windowMs: 60 * MINUTE };

describe('lockedUntil', () => {
	it('does not lock below the threshold, then locks for the base from the last failure', () => {
		const now = 1_000_000_000;
		expect(lockedUntil([now - 3, now - 2], now, policy)).toBeNull();
		expect(lockedUntil([now - 3, now - 2, now - 1], now, policy)).toBe(now - 1 + MINUTE);
	});

	it('doubles the lock with each failure past the threshold, up to the cap', () => {
		const now = 1_000_000_000;
		const failures = (n: number) => Array.from({ length: n }, (_, i) => now - n + i);
		expect(lockedUntil(failures(4), now, policy)).toBe(now - 1 + 2 * MINUTE);
		expect(lockedUntil(failures(5), now, policy)).toBe(now - 1 + 4 * MINUTE);
		expect(lockedUntil(failures(6), now, policy)).toBe(now - 1 + 8 * MINUTE);
		expect(lockedUntil(failures(60), now, policy)).toBe(now - 1 + 8 * MINUTE);
	});

	it('ends when the lock has run out, and forgets failures older than the window', () => {
		const at = 1_000_000_000;
		expect(lockedUntil([at, at, at], at + MINUTE, policy)).toBeNull();
		expect(lockedUntil([at - 61 * MINUTE, at, at], at + 1, policy)).toBeNull();
	});
});

describe('sliding windows', () => {
	it('weighs the previous window by how much of it is still inside the last windowMs', () => {
		const limit = { limit: 10, windowMs: MINUTE };
		expect(windowIndex(125_000, MINUTE)).toBe(2);
		// At the start of a window the previous one counts whole, halfway through half of it.
		expect(overLimit(8, 3, 2 * MINUTE, limit)).toBe(true);
		expect(overLimit(8, 3, 2 * MINUTE + 30_000, limit)).toBe(false);
		expect(overLimit(8, 10, 3 * MINUTE - 1, limit)).toBe(true);
	});

	it('decides at the limit exactly, without rounding', () => {
		const limit = { limit: 3, windowMs: MINUTE };
		// 3 · (1 − 20/60) + 1 is 3 exactly; in floating point it comes out a hair above.
		expect(overLimit(3, 1, 3 * MINUTE + 20_000, limit)).toBe(false);
		expect(overLimit(3, 1, 3 * MINUTE + 19_999, limit)).toBe(true);
		expect(overLimit(0, 3, 3 * MINUTE, limit)).toBe(false);
		expect(overLimit(0, 4, 3 * MINUTE, limit)).toBe(true);
	});

	it('tells how long until one more request fits, and not much longer', () => {
		const limit = { limit: 5, windowMs: MINUTE };
		// This window is full: wait into the next one until its weight lets one more through.
		expect(retryAfterMs(0, 5, 2 * MINUTE, limit)).toBe(MINUTE + MINUTE * (1 - 4 / 5));
		// Room in this window once the previous one weighs less: 10·w + 1 ≤ 5 at w = 0.4.
		expect(retryAfterMs(10, 0, 2 * MINUTE, limit)).toBe(MINUTE * 0.6);
		for (const [previous, current, into] of [
			[10, 2, 10_000],
			[0, 5, 0],
			[7, 4, 59_000],
			[6, 1, 1],
		]) {
			const at = 2 * MINUTE + into;
			// Whether one more request fits at `t`, when none comes in meanwhile.
			const fits = (t: number) => {
				const passed = windowIndex(t, MINUTE) - windowIndex(at, MINUTE);
				const [p, c] = passed === 0 ? [previous, current] : passed === 1 ? [current, 0] : [0, 0];
				return !overLimit(p, c + 1, t, limit);
			};
			const wait = retryAfterMs(previous, current, at, limit);
			expect(fits(at + wait)).toBe(true);
			expect(fits(at + wait - 1_000)).toBe(false);
		}
	});
});
