import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEVICE_TOKENS_MAX, DeviceTokens } from './device-tokens';

const DAY = 86_400_000;
const now = 1_700_000_000_000;

describe('DeviceTokens', () => {
	const tokens = new DeviceTokens(randomBytes(32), 30 * DAY);

	it('gives a token that proves this account only, and names no account', () => {
		const cookie = tokens.issue(undefined, 'alice', now);
		expect(cookie).not.toContain('alice');
		expect(tokens.verify(cookie, 'alice', now + 1)).toMatch(/^[A-Za-z0-9_-]{16}$/);
		expect(tokens.verify(cookie, 'bob', now + 1)).toBeNull();
	});

	it('refuses an expired, a future, a forged and another secret’s token', () => {
		const cookie = tokens.issue(undefined, 'alice', now);
		expect(tokens.verify(cookie, 'alice', now + 30 * DAY)).toBeNull();
		expect(tokens.verify(cookie, 'alice', now - 1)).toBeNull();
		const forged = cookie.slice(0, -2) + (cookie.endsWith('AA') ? 'BB' : 'AA');
		expect(tokens.verify(forged, 'alice', now + 1)).toBeNull();
		expect(new DeviceTokens(randomBytes(32), 30 * DAY).verify(cookie, 'alice', now + 1)).toBeNull();
		expect(tokens.verify('garbage~;;~', 'alice', now)).toBeNull();
		expect(tokens.verify(undefined, 'alice', now)).toBeNull();
	});

	it('keeps one token per account on a device, newest first, a few accounts at most', () => {
		let cookie = tokens.issue(undefined, 'alice', now);
		const first = tokens.verify(cookie, 'alice', now);
		cookie = tokens.issue(cookie, 'bob', now + 1);
		cookie = tokens.issue(cookie, 'alice', now + 2);
		expect(cookie.split('~')).toHaveLength(2);
		const second = tokens.verify(cookie, 'alice', now + 3);
		expect(second).not.toBeNull();
		expect(second).not.toBe(first);
		expect(tokens.verify(cookie, 'bob', now + 3)).not.toBeNull();
		for (let i = 0; i < DEVICE_TOKENS_MAX + 2; i++) cookie = tokens.issue(cookie, `user${i}`, now + 10 + i);
		expect(cookie.split('~')).toHaveLength(DEVICE_TOKENS_MAX);
		expect(tokens.verify(cookie, `user${DEVICE_TOKENS_MAX + 1}`, now + 100)).not.toBeNull();
		expect(tokens.verify(cookie, 'alice', now + 100)).toBeNull();
	});
});
