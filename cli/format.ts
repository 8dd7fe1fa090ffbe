import type { ActivityEvent, Contact, DeviceSession, SealedNotice } from '../src/lib/protocol';
import { formatBytes } from './files';
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

/** A short duration: `45s`, `3m 20s`, `2h 5m`, `4d 3h`. */
export function formatDuration(ms: number): string {
	const seconds = Math.max(0, Math.ceil(ms / 1000));
	if (seconds < 60) return `${seconds}s`;
	const minutes = Math.floor(seconds / 60);
	if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
	const hours = Math.floor(minutes / 60);
	if (hours < 24) return `${hours}h ${minutes % 60}m`;
	return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

const PROBLEMS: Record<MessageProblem, string> = {
	'bad-signature': 'not shown: its signature does not verify (forged or damaged)',
	undecryptable: 'not shown: it cannot be decrypted with this account’s keys',
	'bad-body': 'not shown: its content is not a valid message',
	'key-changed': 'not shown: the sender’s keys changed since they were pinned on this device',
};

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
			: ` (disappears ${formatDuration(message.expiresAfterMs)} after reading)`;
	const head = `[${when} ${message.id}] ${message.from} → ${message.to}${lock}${timer}:`;
	if (message.file) {
		const { name, size, mime } = message.file;
		return `${head} [file] ${safeText(name)} (${formatBytes(size)}, ${safeText(mime || 'unknown type')})`;
	}
	if (message.text === null) return `${head} [${PROBLEMS[message.problem ?? 'bad-body']}]`;
	const [first, ...more] = safeText(message.text).split('\n');
	return [`${head} ${first}`, ...more.map((line) => `    ${line}`)].join('\n');
}

function lockState(message: DecodedMessage, unlockAt: number): string {
	const sent = `sent ${formatTime(message.sentAt)}`;
	if (message.state === 'locked') return `locked until ${formatTime(unlockAt)}, ${sent}`;
	if (message.state === 'cancelled') return `time-lock cancelled, ${sent}`;
	return `time-locked: ${sent}, unlocked ${formatTime(message.releasedAt ?? unlockAt)}`;
}

/** A read receipt as printed by `read`: one line per message of ours that the peer read. */
export function formatReadReceipt(peer: string, ids: string[]): string[] {
	return ids.map((id) => `read: ${peer} read ${id}`);
}

/** A disappearing-messages setting, as `read` prints it. */
export function formatTimer(message: DecodedMessage, expiresAfterMs: number | null): string {
	const setting = expiresAfterMs === null ? 'off' : formatDuration(expiresAfterMs);
	return `[${formatTime(message.storedAt)}] ${message.from} set disappearing messages to ${setting} (with ${message.to})`;
}

/** An announced time-lock that is still sealed: who, and when it opens by the hub's clock. */
export function formatSealed(notice: SealedNotice, serverNow: number): string {
	return (
		`sealed: ${notice.from} → ${notice.to}, unlocks ${formatTime(notice.unlockAt)} ` +
		`(in ${formatDuration(notice.unlockAt - serverNow)})`
	);
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
		s.current ? 'now' : `${formatDuration(serverNow - s.lastSeenAt)} ago`,
		safeText(s.place ?? 'unknown'),
		s.trusted ? 'trusted' : '',
		s.push ? 'push' : '',
	]);
	return formatTable([' ', 'ID', 'DEVICE', 'SIGNED IN', 'LAST SEEN', 'FROM', '', ''], rows);
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
		safeText(describeActivity(e, formatTime)),
		safeText(e.device ?? ''),
		safeText(e.place ?? ''),
	]);
	return formatTable([' ', 'WHEN', 'WHAT', 'DEVICE', 'FROM'], rows);
}

/** `hourglass contacts`: one line per relation, contacts first. */
export function formatContacts(contacts: Contact[]): string[] {
	if (contacts.length === 0) return ['No contacts yet. Add one with "hourglass contacts add <user>".'];
	const sorted = [...contacts].sort(
		(a, b) => a.state.localeCompare(b.state) || a.username.localeCompare(b.username),
	);
	const width = Math.max(...sorted.map((c) => c.username.length));
	return sorted.map(
		(c) =>
			`${c.username.padEnd(width)}  ${c.state === 'accepted' ? 'contact' : 'blocked'} since ${formatTime(c.since)}`,
	);
}

/** `hourglass requests`: per sender, how many messages wait and the first of them. */
export function formatRequests(incoming: DecodedMessage[]): string[] {
	const bySender = new Map<string, DecodedMessage[]>();
	for (const m of incoming) bySender.set(m.from, [...(bySender.get(m.from) ?? []), m]);
	if (bySender.size === 0) return ['No message requests.'];
	const lines: string[] = [];
	for (const [from, messages] of bySender) {
		const count = `${messages.length} message${messages.length === 1 ? '' : 's'}`;
		lines.push(`${from} (${count}): ${formatMessage(messages[0])}`);
	}
	lines.push(
		'Answer with "hourglass accept <user>", "hourglass decline <user>" or "hourglass block <user>".',
	);
	return lines;
}
