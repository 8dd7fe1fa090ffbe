import type { ActivityEvent, Contact, DeviceSession, SealedNotice } from '../src/lib/protocol';
import { formatBytes } from './files';
import { appText, cliLocale, t } from './i18n';
import { describeActivity, isNoteworthy, type DecodedMessage, type MessageProblem } from '../src/lib/sdk';

/**
 * Message text made safe for a terminal: control characters (which could move the cursor,
 * rewrite earlier lines or change the window title) and bidirectional overrides (which could
 * make text read differently than it is) are shown as `\u{…}` escapes. Newlines and tabs stay.
 */
export function safeText(text: string): string {
	return text.replace(
		// eslint-disable-next-line no-control-regex -- matching control characters is the point
		/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
		(c) => `\\u{${c.codePointAt(0)!.toString(16)}}`,
	);
}

function pad(n: number, width = 2): string {
	return String(n).padStart(width, '0');
}

/** Local time as `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(ms: number): string {
	const d = new Date(ms);
	return (
		`${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
		`${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
	);
}

/** A short duration: `45s`, `3m 20s`, `2h 5m`, `4d 3h` (in French `3 min 20 s`, `4 j 3 h`). */
export function formatDuration(ms: number): string {
	const seconds = Math.max(0, Math.ceil(ms / 1000));
	if (seconds < 60) return t('duration.s', { s: seconds });
	const minutes = Math.floor(seconds / 60);
	if (minutes < 60) return t('duration.ms', { m: minutes, s: seconds % 60 });
	const hours = Math.floor(minutes / 60);
	if (hours < 24) return t('duration.hm', { h: hours, m: minutes % 60 });
	return t('duration.dh', { d: Math.floor(hours / 24), h: hours % 24 });
}

/** How long to wait, in words of the command line's language: `30 seconds`, `2 minutes`, `3 heures`. */
export function formatWait(ms: number): string {
	const total = Math.max(0, Math.ceil(ms / 1000));
	const [value, unit] =
		total < 60
			? [total, 'second']
			: total < 3600
				? [Math.round(total / 60), 'minute']
				: total < 86400
					? [Math.round(total / 3600), 'hour']
					: [Math.round(total / 86400), 'day'];
	return new Intl.NumberFormat(cliLocale(), { style: 'unit', unit, unitDisplay: 'long' }).format(value);
}

const PROBLEMS = {
	'bad-signature': 'problem.badSignature',
	undecryptable: 'problem.undecryptable',
	'bad-body': 'problem.badBody',
	'key-changed': 'problem.keyChanged',
} as const satisfies Record<MessageProblem, string>;

/**
 * One message as printed by `read`, its id beside the time (where text cannot forge it; `delete`
 * takes it); the text never appears when a check failed.
 */
export function formatMessage(message: DecodedMessage): string {
	const when = formatTime(message.releasedAt ?? message.storedAt);
	const lock = message.unlockAt === null ? '' : ` (${lockState(message, message.unlockAt)})`;
	const timer =
		message.expiresAfterMs === null
			? ''
			: t('message.disappears', { duration: formatDuration(message.expiresAfterMs) });
	const head = `[${when} ${message.id}] ${message.from} → ${message.to}${lock}${timer}:`;
	if (message.file) {
		const { name, size, mime } = message.file;
		const type = mime ? safeText(mime) : t('message.unknownType');
		return `${head} ${t('message.file', { name: safeText(name), size: formatBytes(size), type })}`;
	}
	if (message.text === null) return `${head} [${t(PROBLEMS[message.problem ?? 'bad-body'])}]`;
	const [first, ...more] = safeText(message.text).split('\n');
	return [`${head} ${first}`, ...more.map((line) => `    ${line}`)].join('\n');
}

function lockState(message: DecodedMessage, unlockAt: number): string {
	const sent = formatTime(message.sentAt);
	if (message.state === 'locked') return t('lock.locked', { until: formatTime(unlockAt), sent });
	if (message.state === 'cancelled') return t('lock.cancelled', { sent });
	return t('lock.released', { sent, unlocked: formatTime(message.releasedAt ?? unlockAt) });
}

/** A read receipt as printed by `read`: one line per message of ours that the peer read. */
export function formatReadReceipt(peer: string, ids: string[]): string[] {
	return ids.map((id) => `read: ${t('receipt.read', { peer, id })}`);
}

/** A disappearing-messages setting, as `read` prints it. */
export function formatTimer(message: DecodedMessage, expiresAfterMs: number | null): string {
	const at = `[${formatTime(message.storedAt)}]`;
	const { from, to } = message;
	if (expiresAfterMs === null) return `${at} ${t('timer.off', { from, to })}`;
	return `${at} ${t('timer.set', { from, to, duration: formatDuration(expiresAfterMs) })}`;
}

/** An announced time-lock that is still sealed: who, and when it opens by the hub's clock. */
export function formatSealed(notice: SealedNotice, serverNow: number): string {
	const opens = t('sealed.unlocks', {
		at: formatTime(notice.unlockAt),
		wait: formatDuration(notice.unlockAt - serverNow),
	});
	return `sealed: ${notice.from} → ${notice.to}, ${opens}`;
}

/** How much of a session id `sessions` prints: enough to tell a user's few sessions apart. */
export const SESSION_ID_SHOWN = 10;

/** The table `hourglass sessions` prints: one row per device, this one marked with `*`. */
export function formatSessions(sessions: DeviceSession[], serverNow: number): string[] {
	const rows = sessions.map((s) => [
		s.current ? '*' : ' ',
		s.id.slice(0, SESSION_ID_SHOWN),
		safeText(s.device),
		formatTime(s.createdAt),
		s.current ? t('sessions.now') : t('sessions.ago', { duration: formatDuration(serverNow - s.lastSeenAt) }),
		s.place ? safeText(s.place) : t('sessions.unknownPlace'),
		s.trusted ? t('sessions.trusted') : '',
		s.push ? 'push' : '',
	]);
	const header = [
		' ',
		'ID',
		t('table.device'),
		t('table.signedIn'),
		t('table.lastSeen'),
		t('table.from'),
		'',
		'',
	];
	return formatTable(header, rows);
}

/** Rows under a header, each column as wide as its widest cell. */
function formatTable(header: string[], rows: string[][]): string[] {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
	return [header, ...rows].map((row) =>
		row
			.map((cell, i) => cell.padEnd(widths[i]))
			.join('  ')
			.trimEnd(),
	);
}

/** The activity log as a table, newest first; `!` marks what deserves a second look. */
export function formatActivity(events: ActivityEvent[]): string[] {
	const rows = events.map((e) => [
		isNoteworthy(e) ? '!' : ' ',
		formatTime(e.at),
		safeText(describeActivity(e, formatTime, appText)),
		safeText(e.device ?? ''),
		safeText(e.place ?? ''),
	]);
	return formatTable([' ', t('table.when'), t('table.what'), t('table.device'), t('table.from')], rows);
}

/** `hourglass contacts`: one line per relation, contacts first. */
export function formatContacts(contacts: Contact[]): string[] {
	if (contacts.length === 0) return [t('contacts.none')];
	const sorted = [...contacts].sort(
		(a, b) => a.state.localeCompare(b.state) || a.username.localeCompare(b.username),
	);
	const width = Math.max(...sorted.map((c) => c.username.length));
	return sorted.map(
		(c) =>
			`${c.username.padEnd(width)}  ${t(c.state === 'accepted' ? 'contacts.since' : 'contacts.blockedSince', { since: formatTime(c.since) })}`,
	);
}

/** `hourglass requests`: per sender, how many messages wait and the first of them. */
export function formatRequests(incoming: DecodedMessage[]): string[] {
	const bySender = new Map<string, DecodedMessage[]>();
	for (const m of incoming) bySender.set(m.from, [...(bySender.get(m.from) ?? []), m]);
	if (bySender.size === 0) return [t('requests.none')];
	const lines: string[] = [];
	for (const [from, messages] of bySender) {
		lines.push(`${from} (${t('requests.count', { count: messages.length })}): ${formatMessage(messages[0])}`);
	}
	lines.push(t('requests.answer'));
	return lines;
}
