import { describe, expect, it } from 'vitest';
import { canUnlock, inTimelineOrder, isPreviewable, isSealedApart, isStillLocked, orderOf } from './timeline';

const NOW = 1_800_000_000_000;

describe('orderOf', () => {
	it('places a time-lock at its unlock time, anything else at the hub storage time, else the send time', () => {
		expect(orderOf({ unlockAt: NOW + 5_000, storedAt: NOW, sentAt: NOW - 10 })).toBe(NOW + 5_000);
		expect(orderOf({ unlockAt: null, storedAt: NOW, sentAt: NOW - 10 })).toBe(NOW);
		expect(orderOf({ unlockAt: null, storedAt: null, sentAt: NOW - 10 })).toBe(NOW - 10);
	});

	it('places a cancelled time-lock where it was stored, since it never opens', () => {
		expect(orderOf({ unlockAt: NOW + 5_000, storedAt: NOW, sentAt: NOW - 10, state: 'cancelled' })).toBe(NOW);
		expect(orderOf({ unlockAt: NOW + 5_000, storedAt: null, sentAt: NOW - 10, state: 'cancelled' })).toBe(
			NOW - 10,
		);
	});
});

describe('inTimelineOrder', () => {
	type State = 'live' | 'locked' | 'released' | 'cancelled';
	interface Msg {
		id: string;
		storedAt: number;
		sentAt: number;
		unlockAt: number | null;
		state: State;
	}
	const at = (id: string, storedAt: number, over: Partial<Msg> = {}): Msg => ({
		id,
		storedAt,
		sentAt: storedAt,
		unlockAt: null,
		state: 'live',
		...over,
	});

	it('puts an opened lock at its unlock place, after what was sent before it opened, and keeps closed ones apart', () => {
		const lock = at('lock', NOW, { unlockAt: NOW + 10_000, state: 'released' });
		const closed = at('closed', NOW + 1, { unlockAt: NOW + 60_000, state: 'locked' });
		const cancelled = at('cancelled', NOW + 2, { unlockAt: NOW + 90_000, state: 'cancelled' });
		const messages = [at('after', NOW + 20_000), lock, closed, at('between', NOW + 5_000), cancelled];
		const { timeline, sealed } = inTimelineOrder(messages, NOW + 30_000);
		expect(timeline.map((m) => m.id)).toEqual(['cancelled', 'between', 'lock', 'after']);
		expect(sealed.map((m) => m.id)).toEqual(['closed']);
		// A lock the hub reported locked, whose time has passed by now: it opens with the next sync.
		expect(inTimelineOrder([closed], NOW + 61_000).timeline.map((m) => m.id)).toEqual(['closed']);
	});
});

describe('isSealedApart', () => {
	it('keeps a closed lock apart, but one the hub refused in the timeline with its reason', () => {
		const lock = { direction: 'out' as const, unlockAt: NOW + 1, releasedAt: null };
		expect(isSealedApart({ ...lock, status: 'sent' }, NOW)).toBe(true);
		expect(isSealedApart({ ...lock, status: 'sending' }, NOW)).toBe(true);
		expect(isSealedApart({ ...lock, status: 'failed' }, NOW)).toBe(false);
		expect(isSealedApart({ ...lock, status: 'sent' }, NOW + 1)).toBe(false);
		expect(isSealedApart({ ...lock, direction: 'in', status: 'sealed' }, NOW + 60_000)).toBe(true);
	});
});

describe('isPreviewable', () => {
	const row = { direction: 'out' as const, unlockAt: null, releasedAt: null };

	it('previews what the timeline shows, never a sealed placeholder or our own closed lock', () => {
		expect(isPreviewable({ ...row, status: 'sent' }, NOW)).toBe(true);
		expect(isPreviewable({ ...row, status: 'notice' }, NOW)).toBe(true);
		expect(isPreviewable({ ...row, direction: 'in', status: 'sealed', unlockAt: NOW + 1 }, NOW)).toBe(false);
		expect(isPreviewable({ ...row, status: 'sent', unlockAt: NOW + 1 }, NOW)).toBe(false);
		expect(isPreviewable({ ...row, status: 'sent', unlockAt: NOW + 1 }, NOW + 1)).toBe(true);
		expect(isPreviewable({ ...row, status: 'cancelled', unlockAt: NOW + 1 }, NOW)).toBe(true);
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
