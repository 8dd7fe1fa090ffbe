import { describe, expect, it } from 'vitest';
import { canUnlock, isStillLocked, orderOf } from './timeline';

const NOW = 1_800_000_000_000;

describe('orderOf', () => {
	it('places a time-lock at its unlock time, anything else at the hub storage time, else the send time', () => {
		expect(orderOf({ unlockAt: NOW + 5_000, storedAt: NOW, sentAt: NOW - 10 })).toBe(NOW + 5_000);
		expect(orderOf({ unlockAt: null, storedAt: NOW, sentAt: NOW - 10 })).toBe(NOW);
		expect(orderOf({ unlockAt: null, storedAt: null, sentAt: NOW - 10 })).toBe(NOW - 10);
	});
});

describe('isStillLocked', () => {
	const base = { unlockAt: NOW + 1_000, releasedAt: null };

	it('keeps the sender copy closed until the hub clock passes the unlock time', () => {
		expect(isStillLocked({ ...base, status: 'sent', direction: 'out' }, NOW)).toBe(true);
		expect(isStillLocked({ ...base, status: 'sent', direction: 'out' }, NOW + 1_000)).toBe(false);
		expect(isStillLocked({ ...base, status: 'cancelled', direction: 'out' }, NOW)).toBe(false);
	});

	it('treats a received message as open even if this device clock lags the hub', () => {
		expect(isStillLocked({ ...base, status: 'received', direction: 'in' }, NOW)).toBe(false);
		expect(isStillLocked({ ...base, releasedAt: NOW + 1_000, status: 'sent', direction: 'out' }, NOW)).toBe(
			false,
		);
	});

	it('keeps an announced placeholder closed', () => {
		expect(isStillLocked({ ...base, status: 'sealed', direction: 'in' }, NOW + 60_000)).toBe(true);
	});
});

describe('canUnlock', () => {
	const rows = (
		['sending', 'sent', 'delivered', 'failed', 'cancelled', 'received', 'sealed'] as const
	).flatMap((status) =>
		(['in', 'out'] as const).flatMap((direction) =>
			[null, NOW + 1_000].flatMap((unlockAt) =>
				[null, NOW + 1_200].map((releasedAt) => ({ status, direction, unlockAt, releasedAt })),
			),
		),
	);

	it('is true for exactly the rows whose lock state the clock can still change', () => {
		for (const row of rows) {
			const changes = isStillLocked(row, NOW) !== isStillLocked(row, NOW + 2_000);
			if (changes) expect(canUnlock(row), JSON.stringify(row)).toBe(true);
			if (!canUnlock(row)) {
				expect(isStillLocked(row, 0), JSON.stringify(row)).toBe(isStillLocked(row, NOW + 2_000));
			}
		}
		expect(canUnlock({ status: 'sent', direction: 'out', unlockAt: NOW + 1_000, releasedAt: null })).toBe(
			true,
		);
	});
});
