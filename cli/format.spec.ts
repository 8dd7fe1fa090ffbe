import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedMessage } from '../src/lib/sdk';
import { formatDuration, formatMessage, formatSealed, formatSessions, formatTime, safeText } from './format';

const previousTz = process.env.TZ;
beforeAll(() => {
	process.env.TZ = 'UTC';
});
afterAll(() => {
	if (previousTz === undefined) delete process.env.TZ;
	else process.env.TZ = previousTz;
});

const T0 = Date.UTC(2030, 0, 31, 9, 0, 0);

function message(overrides: Partial<DecodedMessage> = {}): DecodedMessage {
	return {
		id: '0190a0b0-0000-7000-8000-000000000000',
		peer: 'bob',
		direction: 'in',
		from: 'bob',
		to: 'alice',
		sentAt: T0,
		storedAt: T0,
		syncKey: '001895994800000-x',
		state: 'live',
		unlockAt: null,
		releasedAt: null,
		announce: false,
		kind: 'text',
		expiresAfterMs: null,
		text: 'hello',
		control: null,
		problem: null,
		...overrides,
	};
}

describe('safeText', () => {
	it('escapes terminal control sequences and bidi overrides but keeps newlines and tabs', () => {
		expect(safeText('\u001b]0;pwned\u0007red\u001b[31m')).toBe('\\u{1b}]0;pwned\\u{7}red\\u{1b}[31m');
		expect(safeText('abc\u202edcba')).toBe('abc\\u{202e}dcba');
		expect(safeText('line\r')).toBe('line\\u{d}');
		expect(safeText('a\tb\nc — ünïcödé 🙂')).toBe('a\tb\nc — ünïcödé 🙂');
	});
});

describe('formatTime and formatDuration', () => {
	it('prints local time to the second', () => {
		expect(formatTime(T0 + 5_250)).toBe('2030-01-31 09:00:05');
	});

	it('rounds durations up and picks two units', () => {
		expect(formatDuration(-5)).toBe('0s');
		expect(formatDuration(1)).toBe('1s');
		expect(formatDuration(59_001)).toBe('1m 0s');
		expect(formatDuration(3_725_000)).toBe('1h 2m');
		expect(formatDuration(2 * 86_400_000 + 3 * 3_600_000)).toBe('2d 3h');
	});
});

describe('formatMessage', () => {
	it('prints sender, recipient, time and text', () => {
		expect(formatMessage(message())).toBe(
			'[2030-01-31 09:00:00 0190a0b0-0000-7000-8000-000000000000] bob → alice: hello',
		);
	});

	it('indents the following lines of a multi-line text', () => {
		expect(formatMessage(message({ text: 'one\ntwo' }))).toBe(
			'[2030-01-31 09:00:00 0190a0b0-0000-7000-8000-000000000000] bob → alice: one\n    two',
		);
	});

	it('marks a time-locked message with its sent and unlocked times', () => {
		const line = formatMessage(
			message({ unlockAt: T0 + 60_000, releasedAt: T0 + 60_200, state: 'released', sentAt: T0 - 1000 }),
		);
		expect(line).toBe(
			'[2030-01-31 09:01:00 0190a0b0-0000-7000-8000-000000000000] bob → alice (time-locked: sent 2030-01-31 08:59:59, unlocked 2030-01-31 09:01:00): hello',
		);
	});

	it('shows a message still locked (as its sender sees it) as locked, not unlocked', () => {
		const line = formatMessage(
			message({ direction: 'out', unlockAt: T0 + 60_000, state: 'locked', sentAt: T0 }),
		);
		expect(line).toBe(
			'[2030-01-31 09:00:00 0190a0b0-0000-7000-8000-000000000000] bob → alice (locked until 2030-01-31 09:01:00, sent 2030-01-31 09:00:00): hello',
		);
	});

	it('never prints text for a message that failed verification', () => {
		const line = formatMessage(message({ text: null, problem: 'bad-signature' }));
		expect(line).toContain('signature does not verify');
		expect(line).not.toContain('hello');
	});

	it('marks a disappearing message with its timer', () => {
		expect(formatMessage(message({ expiresAfterMs: 300_000 }))).toBe(
			'[2030-01-31 09:00:00 0190a0b0-0000-7000-8000-000000000000] bob → alice (disappears 5m 0s after reading): hello',
		);
	});

	it('escapes control characters in the text', () => {
		expect(formatMessage(message({ text: 'hi\u001b[2J' }))).toBe(
			'[2030-01-31 09:00:00 0190a0b0-0000-7000-8000-000000000000] bob → alice: hi\\u{1b}[2J',
		);
	});
});

describe('formatSealed', () => {
	it('shows who and when by the hub clock', () => {
		const notice = { id: message().id, from: 'bob', to: 'alice', sentAt: T0, unlockAt: T0 + 90_000 };
		expect(formatSealed(notice, T0)).toBe('sealed: bob → alice, unlocks 2030-01-31 09:01:30 (in 1m 30s)');
	});
});

describe('formatSessions', () => {
	it('prints one aligned row per device, this one starred, ids cut to ten characters', () => {
		const id = (c: string) => c.repeat(43);
		const lines = formatSessions(
			[
				{
					id: id('a'),
					device: 'Hourglass CLI on Linux',
					createdAt: T0,
					lastSeenAt: T0 + 3_600_000,
					expiresAt: T0 + 30 * 86_400_000,
					place: '127.0.0.0/16',
					trusted: false,
					push: true,
					current: true,
				},
				{
					id: id('b'),
					device: 'Firefox on Linux\u001b[2J',
					createdAt: T0,
					lastSeenAt: T0,
					expiresAt: T0 + 30 * 86_400_000,
					place: null,
					trusted: true,
					push: false,
					current: false,
				},
			],
			T0 + 3_600_000,
		);
		expect(lines[0]).toMatch(/^ {3}ID {10}DEVICE/);
		expect(lines[1]).toBe(
			'*  aaaaaaaaaa  Hourglass CLI on Linux     2030-01-31 09:00:00  now        127.0.0.0/16           push',
		);
		expect(lines[2]).toBe(
			'   bbbbbbbbbb  Firefox on Linux\\u{1b}[2J  2030-01-31 09:00:00  1h 0m ago  unknown       trusted',
		);
	});
});
