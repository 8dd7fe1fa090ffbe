import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../protocol';
import { backoffDelay, isRetryable } from './retry';

describe('backoffDelay', () => {
	const backoff = { baseMs: 500, maxMs: 30_000 };

	it('doubles its ceiling with each attempt and stops at the cap', () => {
		const top = () => 1;
		expect([0, 1, 2, 3].map((n) => backoffDelay(n, backoff, top))).toEqual([500, 1000, 2000, 4000]);
		expect(backoffDelay(6, backoff, top)).toBe(30_000);
		expect(backoffDelay(1000, backoff, top)).toBe(30_000);
	});

	it('picks a random moment below the ceiling, so devices spread out', () => {
		expect(backoffDelay(3, backoff, () => 0)).toBe(0);
		expect(backoffDelay(3, backoff, () => 0.25)).toBe(1000);
	});
});

describe('isRetryable', () => {
	it('retries a timeout or a hub fault, not a refusal', () => {
		expect(isRetryable(new ProtocolError('UNAVAILABLE', 'no answer'))).toBe(true);
		expect(isRetryable(new ProtocolError('INTERNAL', 'fault'))).toBe(true);
		expect(isRetryable(new ProtocolError('UNAUTHENTICATED', 'signed out'))).toBe(false);
		expect(isRetryable(new Error('other'))).toBe(false);
	});
});
