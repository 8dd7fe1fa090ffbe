import { parseArgs } from 'node:util';
import {
	DISAPPEARING_CHOICES,
	LIMITS,
	MessageId,
	SecondFactorCode,
	UsernameInput,
	parseContactCard,
	type ContactCard,
	type DisappearingChoice,
} from '../src/lib/protocol';
import { SafetyCodeError, parseSafetyCode } from '../src/lib/sdk/verification';
import { UnlockDateError, parseUnlockDate } from './unlock';

export const DEFAULT_SERVER = 'http://127.0.0.1:3000';

export const USAGE = `Usage: hourglass [--server <url>] [--user <name>] <command>

Commands:
  register <username>                     create an account and keep its identity on this device
  login <username> [--trust] [--code <code>]
                                          sign this device in (restores the identity from its backup);
                                          with two-factor authentication on, --code gives the 6-digit
                                          code or a recovery code (else it is asked for)
  2fa enable                              turn on two-factor authentication: prints the otpauth URI and
                                          a QR code for an authenticator app, then reads a first code
  2fa disable [--code <code>]             turn it off (the password and a code or recovery code)
  send <user> <text> [--unlock <date>] [--announce]
                                          send an end-to-end encrypted message; --unlock time-locks it
                                          until <date> (ISO 8601, e.g. 2030-01-31T09:00, or
                                          DD:MM:YYYY:HH:MM:SS, local time unless an offset is given);
                                          --announce lets the recipient see that something is coming
  send-file <user> <path> [--unlock <date>] [--announce]
                                          encrypt and send a file (a progress line on stderr; an
                                          interrupted upload of the same file resumes on the next try);
                                          --unlock and --announce as for send, the file included
  read [--peer <user>] [--save-dir <dir>] fetch and print new messages (each with its id), then exit;
                                          what it printed counts as read on your other devices (and,
                                          with read receipts on, for the senders); --peer prints only
                                          the conversation with <user> (the rest waits for a later read);
                                          --save-dir saves received files there (decrypted and checked)
                                          and prints their paths
  receipts on|off                         read receipts for every device of this account (off by
                                          default; reciprocal: off, you see no one's either)
  delete <message-id> [--everyone]        delete a message on every device of this account; with
                                          --everyone (your own message, within the hub's window,
                                          48 hours by default) on every device of both sides and the hub
  disappear <user> <off|5m|1h|1d|1w>      set the disappearing-messages timer with <user>: your
                                          messages to them from now on disappear that long after reading
  safety <user> [--accept] [--qr]         print the safety number to compare with <user> in person,
                                          and whether it is verified on this device; --accept trusts
                                          <user>'s new keys after they changed; --qr also prints the
                                          QR code for <user>'s app to scan
  verify <user> <digits>                  compare the 60 digits <user> reads out, in person or by a
                                          call (spaces or not, or the text of their QR code), with
                                          this device's; a match marks <user> verified here, a
                                          mismatch exits with 1
  unverify <user>                         take back the verified mark for <user> on this device
  password [--keep-sessions]              change the password (the new one from $HOURGLASS_NEW_PASSWORD
                                          or a prompt); other sessions end unless --keep-sessions
  logout [--forget]                       end the session on the hub; --forget also deletes this
                                          device's sealed identity, pins and sync cursor
  sessions                                list the devices signed in to this account (* marks this one;
                                          "push": it gets Web Push while closed)
  sessions revoke <id> | --others         sign one device out (by the start of its id), or every
                                          device but this one; their connections end at once
  activity [--limit <n>]                  print the account's activity log, newest first (sign-ins,
                                          failed attempts, lockouts, security changes; default 50)
  account delete --yes [--code <code>]    delete this account on the hub (keys, backup, sessions,
                                          messages waiting for it) and this device's copy; --yes
                                          confirms, --code is asked for when two-factor is on
  contacts                                list your contacts and the people you blocked
  contacts add <user>|<card link>         add a contact; a contact card link (<origin>/add#u=…&fp=…)
                                          has its fingerprint checked against the hub's keys first
  contacts remove <user>                  remove a contact (their new messages are requests again)
  requests                                list message requests: who wrote, how many, their first message
  accept <user>                           accept a message request (they become a contact)
  decline <user>                          decline it: the hub deletes what they left stored for you
  block <user>                            store nothing more from <user> (declines their request);
                                          they are not told
  unblock <user>                          lift a block
  card [--qr]                             print your contact card link; --qr also draws it as a QR code
  help                                    print this help

Options:
  --server <url>   the hub (default: $HOURGLASS_SERVER or ${DEFAULT_SERVER})
  --user <name>    which local account to use (default: the last one that signed in on this server)

The password comes from $HOURGLASS_PASSWORD, else a prompt that does not echo (or a line on stdin);
the new one of "password" from $HOURGLASS_NEW_PASSWORD, else a prompt.
Local data lives in $HOURGLASS_HOME (default ~/.hourglass), sealed under the account's history key,
which only the password opens.`;

/** Bad input on the command line: exit code 2, with the usage hint. */
export class UsageError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'UsageError';
	}
}

export type Command =
	| { name: 'register'; username: string }
	| { name: 'login'; username: string; trust: boolean; code: string | null }
	| { name: '2fa'; action: 'enable' | 'disable'; code: string | null }
	| { name: 'send'; to: string; text: string; unlockAt: number | null; announce: boolean }
	| { name: 'send-file'; to: string; path: string; unlockAt: number | null; announce: boolean }
	| { name: 'read'; peer: string | null; saveDir: string | null }
	| { name: 'receipts'; on: boolean }
	| { name: 'delete'; id: string; everyone: boolean }
	| { name: 'disappear'; peer: string; timer: DisappearingChoice | 'off' }
	| { name: 'safety'; peer: string; accept: boolean; qr: boolean }
	| { name: 'verify'; peer: string; code: string }
	| { name: 'unverify'; peer: string }
	| { name: 'logout'; forget: boolean }
	| { name: 'sessions'; revoke: SessionTarget | null }
	| { name: 'activity'; limit: number }
	| { name: 'password'; keepSessions: boolean }
	| { name: 'account'; action: 'delete'; code: string | null }
	| { name: 'contacts'; action: ContactsAction }
	| { name: 'requests' }
	| { name: 'accept' | 'decline' | 'block' | 'unblock'; peer: string }
	| { name: 'card'; qr: boolean }
	| { name: 'help' };

/** What `contacts` does: list, add by name or by card link, remove. */
export type ContactsAction =
	| { kind: 'list' }
	| { kind: 'add'; peer: string }
	| { kind: 'add-card'; card: ContactCard }
	| { kind: 'remove'; peer: string };

/** Which sessions `sessions revoke` signs out: the one whose id starts with `idPrefix`, or all the others. */
export type SessionTarget = { idPrefix: string } | 'others';

/** The shortest start of a session id `sessions revoke` takes: `sessions` prints ten characters. */
export const SESSION_ID_PREFIX_MIN = 6;

export interface Invocation {
	/** The hub's origin, e.g. `http://127.0.0.1:3000`. */
	server: string;
	/** A local account chosen with --user, already normalised. */
	user: string | null;
	command: Command;
}

const OPTIONS = {
	server: { type: 'string' },
	user: { type: 'string' },
	unlock: { type: 'string' },
	announce: { type: 'boolean' },
	trust: { type: 'boolean' },
	forget: { type: 'boolean' },
	accept: { type: 'boolean' },
	qr: { type: 'boolean' },
	code: { type: 'string' },
	others: { type: 'boolean' },
	'keep-sessions': { type: 'boolean' },
	yes: { type: 'boolean' },
	peer: { type: 'string' },
	limit: { type: 'string' },
	everyone: { type: 'boolean' },
	'save-dir': { type: 'string' },
	help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = keyof typeof OPTIONS;

/** Which options each command takes, besides --server, --user and --help. */
const COMMAND_OPTIONS: Record<Command['name'], OptionName[]> = {
	register: [],
	login: ['trust', 'code'],
	'2fa': ['code'],
	send: ['unlock', 'announce'],
	'send-file': ['unlock', 'announce'],
	read: ['peer', 'save-dir'],
	receipts: [],
	delete: ['everyone'],
	disappear: [],
	safety: ['accept', 'qr'],
	verify: [],
	unverify: [],
	logout: ['forget'],
	sessions: ['others'],
	activity: ['limit'],
	password: ['keep-sessions'],
	account: ['code', 'yes'],
	contacts: [],
	requests: [],
	accept: [],
	decline: [],
	block: [],
	unblock: [],
	card: ['qr'],
	help: [],
};

const ARITY: Record<Command['name'], string[]> = {
	register: ['<username>'],
	login: ['<username>'],
	'2fa': ['enable|disable'],
	send: ['<user>', '<text>'],
	'send-file': ['<user>', '<path>'],
	read: [],
	receipts: ['on|off'],
	delete: ['<message-id>'],
	disappear: ['<user>', '<off|5m|1h|1d|1w>'],
	safety: ['<user>'],
	verify: ['<user>', '<digits>'],
	unverify: ['<user>'],
	logout: [],
	sessions: ['[revoke <id> | revoke --others]'],
	activity: [],
	password: [],
	account: ['delete'],
	contacts: ['[add <user>|<link> | remove <user>]'],
	requests: [],
	accept: ['<user>'],
	decline: ['<user>'],
	block: ['<user>'],
	unblock: ['<user>'],
	card: [],
	help: [],
};

/** Parses the command line (without `node` and the script); pure apart from reading `env`. */
export function parseCommandLine(argv: string[], env: Record<string, string | undefined> = {}): Invocation {
	let parsed;
	try {
		parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
	const { values, positionals } = parsed;
	const server = parseServer(values.server ?? env.HOURGLASS_SERVER ?? DEFAULT_SERVER);
	const user = values.user === undefined ? null : parseUsername(values.user);
	if (values.help || positionals.length === 0) return { server, user, command: { name: 'help' } };

	const [name, ...rest] = positionals;
	if (!isCommandName(name)) throw new UsageError(`unknown command "${name}"`);
	const allowed = COMMAND_OPTIONS[name];
	for (const option of [
		'unlock',
		'announce',
		'trust',
		'forget',
		'accept',
		'qr',
		'others',
		'code',
		'keep-sessions',
		'yes',
		'peer',
		'limit',
		'everyone',
		'save-dir',
	] as const) {
		if (values[option] !== undefined && !allowed.includes(option)) {
			throw new UsageError(`--${option} does not apply to "${name}"`);
		}
	}
	const expected = ARITY[name];
	// `sessions` and `contacts` take a subcommand or none; they check their own arguments. `verify`
	// takes the digits in one argument or in several (the twelve groups, unquoted).
	const arityOk = name === 'verify' ? rest.length >= 2 : rest.length === expected.length;
	if (name !== 'sessions' && name !== 'contacts' && !arityOk) {
		const hint = name === 'send' && rest.length > 2 ? ' (quote the text)' : '';
		throw new UsageError(`usage: ${['hourglass', name, ...expected].join(' ')}${hint}`);
	}

	return { server, user, command: buildCommand(name, rest, values) };
}

function buildCommand(
	name: Command['name'],
	rest: string[],
	values: {
		unlock?: string;
		announce?: boolean;
		trust?: boolean;
		forget?: boolean;
		accept?: boolean;
		qr?: boolean;
		code?: string;
		others?: boolean;
		'keep-sessions'?: boolean;
		yes?: boolean;
		peer?: string;
		limit?: string;
		everyone?: boolean;
		'save-dir'?: string;
	},
): Command {
	const code = values.code === undefined ? null : parseCode(values.code);
	switch (name) {
		case 'register':
			return { name, username: parseUsername(rest[0]) };
		case 'login':
			return { name, username: parseUsername(rest[0]), trust: values.trust ?? false, code };
		case '2fa': {
			const action = rest[0];
			if (action !== 'enable' && action !== 'disable')
				throw new UsageError('usage: hourglass 2fa enable|disable');
			if (action === 'enable' && code !== null) {
				throw new UsageError('--code does not apply to "2fa enable": its code comes from the new secret');
			}
			return { name, action, code };
		}
		case 'send': {
			if (values.announce && values.unlock === undefined) {
				throw new UsageError('--announce only applies to a time-locked message (add --unlock <date>)');
			}
			return {
				name,
				to: parseUsername(rest[0]),
				text: parseText(rest[1]),
				unlockAt: values.unlock === undefined ? null : parseUnlock(values.unlock),
				announce: values.announce ?? false,
			};
		}
		case 'delete': {
			const id = MessageId.safeParse(rest[0]);
			if (!id.success)
				throw new UsageError(`"${rest[0]}" is not a message id (as "hourglass read" prints them)`);
			return { name, id: id.data, everyone: values.everyone ?? false };
		}
		case 'disappear': {
			const timer = rest[1];
			if (timer !== 'off' && !(DISAPPEARING_CHOICES as readonly string[]).includes(timer)) {
				throw new UsageError('usage: hourglass disappear <user> <off|5m|1h|1d|1w>');
			}
			return { name, peer: parseUsername(rest[0]), timer: timer as DisappearingChoice | 'off' };
		}
		case 'send-file': {
			if (values.announce && values.unlock === undefined) {
				throw new UsageError('--announce only applies to a time-locked file (add --unlock <date>)');
			}
			if (rest[1].length === 0) throw new UsageError('send-file: give the path of a file');
			return {
				name,
				to: parseUsername(rest[0]),
				path: rest[1],
				unlockAt: values.unlock === undefined ? null : parseUnlock(values.unlock),
				announce: values.announce ?? false,
			};
		}
		case 'safety':
			return { name, peer: parseUsername(rest[0]), accept: values.accept ?? false, qr: values.qr ?? false };
		case 'verify':
			return { name, peer: parseUsername(rest[0]), code: parseSafetyCodeArgument(rest.slice(1).join(' ')) };
		case 'unverify':
			return { name, peer: parseUsername(rest[0]) };
		case 'logout':
			return { name, forget: values.forget ?? false };
		case 'sessions':
			return parseSessions(rest, values.others ?? false);
		case 'activity':
			return { name, limit: values.limit === undefined ? ACTIVITY_SHOWN : parseLimit(values.limit) };
		case 'password':
			return { name, keepSessions: values['keep-sessions'] ?? false };
		case 'account':
			if (rest[0] !== 'delete' || rest.length !== 1)
				throw new UsageError('usage: hourglass account delete --yes');
			if (values.yes !== true) {
				throw new UsageError(
					'"account delete" cannot be undone: add --yes to delete this account and its keys for good',
				);
			}
			return { name, action: 'delete', code };
		case 'contacts':
			return { name, action: parseContacts(rest) };
		case 'accept':
		case 'decline':
		case 'block':
		case 'unblock':
			return { name, peer: parseUsername(rest[0]) };
		case 'card':
			return { name, qr: values.qr ?? false };
		case 'receipts':
			if (rest[0] !== 'on' && rest[0] !== 'off') throw new UsageError('usage: hourglass receipts on|off');
			return { name, on: rest[0] === 'on' };
		case 'read': {
			const saveDir = values['save-dir'];
			if (saveDir !== undefined && saveDir.length === 0) throw new UsageError('--save-dir: give a folder');
			const peer = values.peer === undefined ? null : parseUsername(values.peer);
			return { name, peer, saveDir: saveDir ?? null };
		}
		case 'requests':
		case 'help':
			return { name };
	}
}

/** Events `activity` prints unless --limit says otherwise, and the most it prints. */
export const ACTIVITY_SHOWN = 50;
export const ACTIVITY_SHOWN_MAX = 1000;

function parseLimit(text: string): number {
	const n = Number(text);
	if (!/^\d+$/.test(text) || n < 1 || n > ACTIVITY_SHOWN_MAX) {
		throw new UsageError(`--limit takes a whole number from 1 to ${ACTIVITY_SHOWN_MAX}, not "${text}"`);
	}
	return n;
}

/** `contacts`, `contacts add <user>|<card link>` or `contacts remove <user>`. */
function parseContacts(rest: string[]): ContactsAction {
	if (rest.length === 0) return { kind: 'list' };
	const [action, target, ...extra] = rest;
	if ((action !== 'add' && action !== 'remove') || target === undefined || extra.length > 0) {
		throw new UsageError('usage: hourglass contacts [add <user>|<card link> | remove <user>]');
	}
	if (action === 'add' && target.includes('#')) {
		const card = parseContactCard(target);
		if (!card) {
			throw new UsageError(
				`"${target}" is not a contact card link (<origin>/add#u=<username>&fp=<30 digits>)`,
			);
		}
		return { kind: 'add-card', card };
	}
	return { kind: action, peer: parseUsername(target) };
}

/** `sessions`, `sessions revoke <id>` or `sessions revoke --others`. */
function parseSessions(rest: string[], others: boolean): Command {
	const usage = 'usage: hourglass sessions [revoke <id> | revoke --others]';
	if (rest.length === 0) {
		if (others) throw new UsageError('--others goes with "sessions revoke"');
		return { name: 'sessions', revoke: null };
	}
	if (rest[0] !== 'revoke' || rest.length > 2) throw new UsageError(usage);
	if (others) {
		if (rest.length === 2) throw new UsageError('give either a session id or --others, not both');
		return { name: 'sessions', revoke: 'others' };
	}
	if (rest.length !== 2) throw new UsageError(usage);
	const id = rest[1];
	if (!new RegExp(`^[A-Za-z0-9_-]{${SESSION_ID_PREFIX_MIN},43}$`).test(id)) {
		throw new UsageError(
			`"${id}" is not a session id: give at least ${SESSION_ID_PREFIX_MIN} of the characters "hourglass sessions" prints`,
		);
	}
	return { name: 'sessions', revoke: { idPrefix: id } };
}

function isCommandName(name: string): name is Command['name'] {
	return Object.hasOwn(ARITY, name);
}

export function parseServer(text: string): string {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new UsageError(`--server: "${text}" is not a URL (e.g. ${DEFAULT_SERVER})`);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new UsageError(`--server: "${text}" must start with http:// or https://`);
	}
	if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
		throw new UsageError(`--server: give only the hub's origin, e.g. ${url.origin}`);
	}
	return url.origin;
}

function parseUsername(text: string): string {
	const parsed = UsernameInput.safeParse(text);
	if (!parsed.success) {
		throw new UsageError(`"${text}" is not a username (3 to 32 letters, digits, "_", "." or "-")`);
	}
	return parsed.data;
}

/** A 6-digit TOTP code or a recovery code, as the shared schema takes it. */
export function parseCode(text: string): string {
	const parsed = SecondFactorCode.safeParse(text);
	if (!parsed.success) throw new UsageError(`"${text}" is not a 6-digit code or a recovery code`);
	return parsed.data;
}

/** The 60 digits of a safety number (spaces or not), or a scanned safety code; checked against the peer later. */
function parseSafetyCodeArgument(text: string): string {
	try {
		parseSafetyCode(text);
	} catch (error) {
		if (!(error instanceof SafetyCodeError)) throw error;
		const why = {
			format: 'is neither 60 digits nor an hourglass-safety: code',
			version: 'is a safety code of a version this hourglass does not read',
			length: 'does not have 60 digits',
			digits: 'has something else than digits',
		}[error.problem];
		throw new UsageError(`the safety number ${why}`);
	}
	return text.trim();
}

function parseText(text: string): string {
	if (text.trim().length === 0) throw new UsageError('the message is empty');
	if (text.length > LIMITS.textMaxChars) {
		// Nothing is cut: the whole text can go as a file instead.
		throw new UsageError(
			`the message is longer than ${LIMITS.textMaxChars} characters (it has ${text.length}); nothing was sent: ` +
				'save it to a .txt file and send that with "hourglass send-file <peer> <file>"',
		);
	}
	return text;
}

function parseUnlock(text: string): number {
	try {
		return parseUnlockDate(text);
	} catch (error) {
		if (error instanceof UnlockDateError) throw new UsageError(`--unlock: ${error.message}`);
		throw error;
	}
}
