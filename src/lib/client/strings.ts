// The modules themselves, not the indexes: the sign-in page shows these errors, and must not pull in
// every schema (zod), the SDK and Socket.IO for it.
import { ProtocolError, type ErrorCode } from '../protocol/errors';
import { DISAPPEARING_CHOICES, type DisappearingChoice } from '../protocol/limits';
import { ApiError, KeyChangedError } from '../sdk/errors';
import type { MessageKey } from '../i18n/en';
import type { MessageProblem } from '../sdk/messenger';
import { formatLocale, t } from '../i18n';

/**
 * The catalog key of what the user reads for each refusal the hub can give: every code has one (a
 * compile error otherwise), so the hub's own English `message` never reaches the screen. Clients
 * switch on the code, never the message.
 */
const ERROR_TEXT: Record<ErrorCode, MessageKey> = {
	BAD_REQUEST: 'error.BAD_REQUEST',
	PAYLOAD_TOO_LARGE: 'error.PAYLOAD_TOO_LARGE',
	UNAUTHENTICATED: 'error.UNAUTHENTICATED',
	INVALID_CREDENTIALS: 'error.INVALID_CREDENTIALS',
	TOTP_REQUIRED: 'error.TOTP_REQUIRED',
	INVALID_TOTP: 'error.INVALID_TOTP',
	TOTP_ALREADY_ENABLED: 'error.TOTP_ALREADY_ENABLED',
	TOTP_NOT_ENABLED: 'error.TOTP_NOT_ENABLED',
	FORBIDDEN: 'error.FORBIDDEN',
	BAD_ORIGIN: 'error.BAD_ORIGIN',
	NOT_FOUND: 'error.NOT_FOUND',
	USERNAME_TAKEN: 'error.USERNAME_TAKEN',
	UNKNOWN_RECIPIENT: 'error.NOT_FOUND.user',
	SENDER_MISMATCH: 'error.SENDER_MISMATCH',
	BAD_SIGNATURE: 'error.BAD_SIGNATURE',
	ID_CONFLICT: 'error.ID_CONFLICT',
	UNLOCK_IN_PAST: 'error.UNLOCK_IN_PAST',
	UNLOCK_TOO_FAR: 'error.UNLOCK_TOO_FAR',
	NOT_CANCELLABLE: 'error.NOT_CANCELLABLE',
	ALREADY_RELEASED: 'error.ALREADY_RELEASED',
	DELETE_WINDOW_PASSED: 'error.DELETE_WINDOW_PASSED',
	RATE_LIMITED: 'error.RATE_LIMITED',
	LOCKED_OUT: 'error.LOCKED_OUT',
	QUOTA_UNDELIVERED: 'error.QUOTA_UNDELIVERED',
	QUOTA_STORAGE: 'error.QUOTA_STORAGE',
	REQUEST_LIMIT: 'error.REQUEST_LIMIT',
	FILE_INCOMPLETE: 'error.FILE_INCOMPLETE',
	UNAVAILABLE: 'error.UNAVAILABLE',
	INTERNAL: 'error.INTERNAL',
};

/** What a NOT_FOUND was about: only the caller knows (the hub says "not found" alike for all). */
export type Missing = 'user' | 'message' | 'file' | 'session';

const NOT_FOUND_TEXT: Record<Missing, MessageKey> = {
	user: 'error.NOT_FOUND.user',
	message: 'error.NOT_FOUND.message',
	file: 'error.NOT_FOUND.file',
	session: 'error.NOT_FOUND.session',
};

/**
 * What the user reads for an error: a hub's refusal in the catalog's words for its code (with
 * `missing`, a NOT_FOUND names what was not found), else the error's own text, which is ours.
 */
export function errorText(error: unknown, missing?: Missing): string {
	if (error instanceof KeyChangedError) return t('error.keyChanged', { name: error.username });
	if (error instanceof ApiError || error instanceof ProtocolError) {
		const wait = error.retryAfter ? waitText(error.code, error.retryAfter) : null;
		if (wait) return wait;
		if (error.code === 'NOT_FOUND' && missing) return t(NOT_FOUND_TEXT[missing]);
		return t(ERROR_TEXT[error.code]);
	}
	return error instanceof Error ? error.message : String(error);
}

/** A refusal that says how long to wait, in words. */
function waitText(code: ErrorCode, seconds: number): string | null {
	const wait = describeCountdown(seconds * 1000);
	if (code === 'LOCKED_OUT') return t('error.LOCKED_OUT.wait', { wait });
	if (code === 'RATE_LIMITED') return t('error.RATE_LIMITED.wait', { wait });
	return null;
}

export type Problem = MessageProblem;

/** Why a message is not shown. */
export function problemText(problem: Problem): string {
	return problem === 'key-changed' ? t('problem.keyChanged') : t('problem.unverified');
}

/** Date and time formats of the current language, made once per language and style. */
const formats = new Map<string, Intl.DateTimeFormat>();
function dateFormat(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
	const locale = formatLocale();
	const id = `${locale} ${JSON.stringify(options)}`;
	let format = formats.get(id);
	if (!format) {
		format = new Intl.DateTimeFormat(locale, options);
		formats.set(id, format);
	}
	return format;
}

/** A time of day today, else a date and time, in the user's time zone and language. */
export function formatWhen(ms: number, now = Date.now()): string {
	const d = new Date(ms);
	const today = new Date(now);
	return d.toDateString() === today.toDateString()
		? dateFormat({ timeStyle: 'short' }).format(d)
		: dateFormat({ dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** A date and a time to the second. */
export function formatExact(ms: number): string {
	return dateFormat({ dateStyle: 'short', timeStyle: 'medium' }).format(ms);
}

/** A date and a time to the minute, for "verified on …". */
export function formatDateTime(ms: number): string {
	return dateFormat({ dateStyle: 'medium', timeStyle: 'short' }).format(ms);
}

/** A number written the way the current language writes it ("16,000", "16 000"). */
export function formatNumber(n: number): string {
	return n.toLocaleString(formatLocale());
}

/** Time left as "2 d 03:04:05", "03:04:05" or "04:05" ("2 j 03:04:05" in French). */
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
	return days > 0 ? t('countdown.days', { days, clock }) : clock;
}

/** Time left to the minute, as "2 d 3 h", "1 h 05 min" or "42 min": for a countdown that ticks once a minute. */
export function formatCoarseCountdown(ms: number): string {
	const minutes = Math.max(0, Math.ceil(ms / 60_000));
	const days = Math.floor(minutes / 1440);
	const hours = Math.floor((minutes % 1440) / 60);
	if (days > 0) return t('countdown.daysHours', { days, hours });
	if (hours === 0) return t('countdown.minutes', { minutes });
	return t('countdown.hoursMinutes', { hours, minutes: String(minutes % 60).padStart(2, '0') });
}

type Unit = 'second' | 'minute' | 'hour' | 'day' | 'week';

/** "3 minutes", "1 jour": a length in whole units, with the language's plural rules (Intl). */
function duration(count: number, unit: Unit): string {
	return new Intl.NumberFormat(formatLocale(), { style: 'unit', unit, unitDisplay: 'long' }).format(count);
}

/** Spoken form of a countdown, for screen readers. */
export function describeCountdown(ms: number): string {
	const total = Math.max(0, Math.ceil(ms / 1000));
	if (total < 60) return duration(total, 'second');
	if (total < 3600) return duration(Math.round(total / 60), 'minute');
	if (total < 86400) return duration(Math.round(total / 3600), 'hour');
	return duration(Math.round(total / 86400), 'day');
}

const TIMER_LENGTHS: Record<DisappearingChoice, [number, Unit]> = {
	'5m': [5, 'minute'],
	'1h': [1, 'hour'],
	'1d': [1, 'day'],
	'1w': [1, 'week'],
};

/**
 * A disappearing timer in words: the name of the hub's choice it is (a test hub shortens them, the
 * names stay), else its length; "off" for none.
 */
export function timerLabel(ms: number | null, choices: Record<DisappearingChoice, number> | null): string {
	if (ms === null) return t('timer.off');
	const choice = DISAPPEARING_CHOICES.find((c) => choices?.[c] === ms);
	if (choice) return timerChoiceName(choice);
	if (ms < 60_000) return duration(Math.max(1, Math.round(ms / 1000)), 'second');
	const minutes = Math.round(ms / 60_000);
	if (minutes < 120) return duration(minutes, 'minute');
	return minutes < 2 * 1440
		? duration(Math.round(minutes / 60), 'hour')
		: duration(Math.round(minutes / 1440), 'day');
}

/** The choice names, for the setting's options. */
export function timerChoiceName(choice: DisappearingChoice): string {
	return duration(...TIMER_LENGTHS[choice]);
}

/** A disappearing-timer line, as the conversation and its preview show it. */
export function timerNoticeText(
	notice: { by: string; expiresAfterMs: number | null },
	mine: boolean,
	choices: Record<DisappearingChoice, number> | null,
): string {
	if (notice.expiresAfterMs === null)
		return mine ? t('timer.youOff') : t('timer.theyOff', { name: notice.by });
	const length = timerLabel(notice.expiresAfterMs, choices);
	return mine ? t('timer.youSet', { length }) : t('timer.theySet', { name: notice.by, length });
}

/** A size as people read it: "512 B", "293.0 KiB", "1.5 GiB". */
export function formatBytes(bytes: number): string {
	if (bytes < 1024) return t('bytes.B', { count: bytes });
	const units = ['KiB', 'MiB', 'GiB', 'TiB'];
	let value = bytes / 1024;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit += 1;
	}
	return `${value.toLocaleString(formatLocale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 })} ${units[unit]}`;
}
