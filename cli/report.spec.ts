import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../src/lib/protocol';
import { ApiError } from '../src/lib/sdk';
import { waitText } from './report';

describe('waitText', () => {
	const now = Date.UTC(2030, 0, 1, 12, 0, 0);

	it('puts a lockout in words: how long, until when, and that a known device still gets in', () => {
		const text = waitText(new ApiError('LOCKED_OUT', 'hub words', 429, 120), now);
		expect(text).toMatch(/^Too many failed sign-ins: the hub has locked this account/);
		expect(text).toContain('Try again in 2 minutes (at ');
		expect(text).toContain(new Date(now + 120_000).toLocaleTimeString());
		expect(text).toMatch(/A device that signed in to this account before is not locked out\.$/);
	});

	it('says how long to wait after a rate limit, and leaves other refusals to their message', () => {
		expect(waitText(new ProtocolError('RATE_LIMITED', 'x', { retryAfter: 30 }), now)).toMatch(
			/^Too many requests to the hub\. Try again in 30 seconds/,
		);
		expect(waitText(new ApiError('RATE_LIMITED', 'x', 429), now)).toBeNull();
		expect(waitText(new ApiError('INVALID_CREDENTIALS', 'x', 401, 5), now)).toBeNull();
	});
});
