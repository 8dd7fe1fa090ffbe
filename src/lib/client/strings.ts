// The modules themselves, not the indexes: the sign-in page shows these errors, and must not pull in
// every schema (zod), the SDK and Socket.IO for it.
import { ProtocolError, type ErrorCode } from '../protocol/errors';
import { DISAPPEARING_CHOICES, type DisappearingChoice } from '../protocol/limits';
import { ApiError, KeyChangedError } from '../sdk/errors';

/** What the user reads for each refusal the hub can give. Clients switch on the code, never the message. */
const ERROR_TEXT: Partial<Record<ErrorCode, string>> = {
	USERNAME_TAKEN: 'That username is already taken. Choose another one.',
	INVALID_CREDENTIALS: 'Wrong username or password.',
	RATE_LIMITED: 'Too many attempts. Wait a minute, then try again.',
	LOCKED_OUT:
		'Too many failed sign-ins: this account is locked for devices the hub does not know. A device that signed in to it before still can.',
	UNAVAILABLE: 'The hub cannot be reached. Check your connection and try again.',
	UNAUTHENTICATED: 'Your session has ended. Sign in again.',
	NOT_FOUND: 'There is no user with that name.',
	UNKNOWN_RECIPIENT: 'There is no user with that name.',
	PAYLOAD_TOO_LARGE: 'This message is too long.',
	BAD_SIGNATURE: 'The hub refused the message signature.',
	UNLOCK_IN_PAST: 'The unlock time must be in the future.',
	UNLOCK_TOO_FAR: 'The unlock time is too far ahead (at most 10 years).',
	NOT_CANCELLABLE: 'This message can no longer be cancelled.',
	ALREADY_RELEASED: 'Too late: this message has already been unlocked.',
	DELETE_WINDOW_PASSED: 'Too late: a message can be deleted for everyone only for a while after it was sent.',
	QUOTA_UNDELIVERED:
		'Too many of your messages are still waiting for this person. Send this again once they have received them.',
	QUOTA_STORAGE:
		'Your messages take all the space this hub allows you. Older messages are removed some days after they are delivered; send this again then.',
	REQUEST_LIMIT:
		'This person has not accepted your message request yet. Wait until they do before sending more.',
	INTERNAL: 'The hub had a problem. Try again later.',
};

export function errorText(error: unknown): string {
	if (error instanceof KeyChangedError) {
		return `The safety number with ${error.username} has changed. Check it before sending.`;
	}
	if (error instanceof ApiError || error instanceof ProtocolError) {
		const wait = error.retryAfter ? waitText(error.code, error.retryAfter) : null;
		return wait ?? ERROR_TEXT[error.code] ?? error.message;
	}
	return error instanceof Error ? error.message : String(error);
}

/** A refusal that says how long to wait, in words. */
function waitText(code: ErrorCode, seconds: number): string | null {
	const wait = describeCountdown(seconds * 1000);
	if (code === 'LOCKED_OUT') {
		return `Too many failed sign-ins: this account is locked for devices the hub does not know. Try again in ${wait}, or sign in on a device that signed in to it before.`;
	}
	if (code === 'RATE_LIMITED') return `Too many attempts. Try again in ${wait}.`;
	return null;
}

export const PROBLEM_TEXT = {
	'bad-signature': 'This message could not be verified.',
	undecryptable: 'This message could not be verified.',
	'bad-body': 'This message could not be verified.',
	'key-changed': 'This message could not be verified: the sender’s keys have changed.',
} as const;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const timeSeconds = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** A time of day today, else a date and time, in the user's time zone. */
export function formatWhen(ms: number, now = Date.now()): string {
	const d = new Date(ms);
	const today = new Date(now);
	return d.toDateString() === today.toDateString() ? timeOnly.format(d) : dateTime.format(d);
}

export function formatExact(ms: number): string {
	return `${new Date(ms).toLocaleDateString()} ${timeSeconds.format(ms)}`;
}

/** Time left as "2 d 03:04:05", "03:04:05" or "04:05". */
export function formatCountdown(ms: number): string {
	const total = Math.max(0, Math.ceil(ms / 1000));
	const days = Math.floor(total / 86400);
	const hours = Math.floor((total % 86400) / 3600);
	const minutes = Math.floor((total % 3600) / 60);
	const seconds = total % 60;
	const two = (n: number) => String(n).padStart(2, '0');
	const clock =
		hours > 0 || days > 0
			? `${two(hours)}:${two(minutes)}:${two(seconds)}`
			: `${two(minutes)}:${two(seconds)}`;
	return days > 0 ? `${days} d ${clock}` : clock;
}

/** Time left to the minute, as "2 d 3 h" or "1 h 05 min": for a countdown that ticks once a minute. */
export function formatCoarseCountdown(ms: number): string {
	const minutes = Math.max(0, Math.ceil(ms / 60_000));
	const days = Math.floor(minutes / 1440);
	const hours = Math.floor((minutes % 1440) / 60);
	if (days > 0) return `${days} d ${hours} h`;
	return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** Spoken form of a countdown, for screen readers. */
export function describeCountdown(ms: number): string {
	const total = Math.max(0, Math.ceil(ms / 1000));
	const unit = (n: number, name: string) => `${n} ${name}${n === 1 ? '' : 's'}`;
	if (total < 60) return unit(total, 'second');
	if (total < 3600) return unit(Math.round(total / 60), 'minute');
	if (total < 86400) return unit(Math.round(total / 3600), 'hour');
	return unit(Math.round(total / 86400), 'day');
}

const TIMER_NAMES: Record<DisappearingChoice, string> = {
	'5m': '5 minutes',
	'1h': '1 hour',
	'1d': '1 day',
	'1w': '1 week',
};

/**
 * A disappearing timer in words: the name of the hub's choice it is (a test hub shortens them, the
 * names stay), else its length; "off" for none.
 */
export function timerLabel(ms: number | null, choices: Record<DisappearingChoice, number> | null): string {
	if (ms === null) return 'off';
	const choice = DISAPPEARING_CHOICES.find((c) => choices?.[c] === ms);
	if (choice) return TIMER_NAMES[choice];
	const count = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
	if (ms < 60_000) return count(Math.max(1, Math.round(ms / 1000)), 'second');
	const minutes = Math.round(ms / 60_000);
	if (minutes < 120) return count(minutes, 'minute');
	return minutes < 2 * 1440
		? count(Math.round(minutes / 60), 'hour')
		: count(Math.round(minutes / 1440), 'day');
}

/** The choice names, for the setting's options. */
export function timerChoiceName(choice: DisappearingChoice): string {
	return TIMER_NAMES[choice];
}

/** A disappearing-timer line, as the conversation and its preview show it. */
export function timerNoticeText(
	notice: { by: string; expiresAfterMs: number | null },
	mine: boolean,
	choices: Record<DisappearingChoice, number> | null,
): string {
	const who = mine ? 'You' : notice.by;
	return notice.expiresAfterMs === null
		? `${who} turned off disappearing messages`
		: `${who} set disappearing messages to ${timerLabel(notice.expiresAfterMs, choices)}`;
}

/** A size as people read it: "512 B", "293.0 KiB", "1.5 GiB". */
export function formatBytes(bytes: number): string {
	if (bytes < 1024) return `${bytes} B`;
	const units = ['KiB', 'MiB', 'GiB', 'TiB'];
	let value = bytes / 1024;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit += 1;
	}
	return `${value.toFixed(1)} ${units[unit]}`;
}
