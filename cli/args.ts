import { parseArgs } from 'node:util';
import { LIMITS, SecondFactorCode, UsernameInput } from '../src/lib/protocol';
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
  read [--save-dir <dir>]                 fetch and print new messages, then exit; --save-dir saves
                                          received files there (decrypted and checked) and prints
                                          their paths
  safety <user> [--accept]                print the safety number to compare with <user> in person;
                                          --accept trusts <user>'s new keys after they changed
  password [--keep-sessions]              change the password (the new one from $HOURGLASS_NEW_PASSWORD
                                          or a prompt); other sessions end unless --keep-sessions
  logout [--forget]                       end the session on the hub; --forget also deletes this
                                          device's sealed identity, pins and sync cursor
  sessions                                list the devices signed in to this account (* marks this one)
  sessions revoke <id> | --others         sign one device out (by the start of its id), or every
                                          device but this one; their connections end at once
  activity [--limit <n>]                  print the account's activity log, newest first (sign-ins,
                                          failed attempts, lockouts, security changes; default 50)
  account delete --yes [--code <code>]    delete this account on the hub (keys, backup, sessions,
                                          messages waiting for it) and this device's copy; --yes
                                          confirms, --code is asked for when two-factor is on
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
	| { name: 'read'; saveDir: string | null }
	| { name: 'safety'; peer: string; accept: boolean }
	| { name: 'logout'; forget: boolean }
	| { name: 'sessions'; revoke: SessionTarget | null }
	| { name: 'activity'; limit: number }
	| { name: 'password'; keepSessions: boolean }
	| { name: 'account'; action: 'delete'; code: string | null }
	| { name: 'help' };

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
	code: { type: 'string' },
	others: { type: 'boolean' },
	'keep-sessions': { type: 'boolean' },
	yes: { type: 'boolean' },
	limit: { type: 'string' },
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
	read: ['save-dir'],
	safety: ['accept'],
	logout: ['forget'],
	sessions: ['others'],
	activity: ['limit'],
	password: ['keep-sessions'],
	account: ['code', 'yes'],
	help: [],
};

const ARITY: Record<Command['name'], string[]> = {
	register: ['<username>'],
	login: ['<username>'],
	'2fa': ['enable|disable'],
	send: ['<user>', '<text>'],
	'send-file': ['<user>', '<path>'],
	read: [],
	safety: ['<user>'],
	logout: [],
	sessions: ['[revoke <id> | revoke --others]'],
	activity: [],
	password: [],
	account: ['delete'],
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
		'others',
		'code',
		'keep-sessions',
		'yes',
		'limit',
		'save-dir',
	] as const) {
		if (values[option] !== undefined && !allowed.includes(option)) {
			throw new UsageError(`--${option} does not apply to "${name}"`);
		}
	}
	const expected = ARITY[name];
	// `sessions` takes a subcommand or none; parseSessions checks its own arguments.
	if (name !== 'sessions' && rest.length !== expected.length) {
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
		code?: string;
		others?: boolean;
		'keep-sessions'?: boolean;
		yes?: boolean;
		limit?: string;
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
		case 'read': {
			const saveDir = values['save-dir'];
			if (saveDir !== undefined && saveDir.length === 0) throw new UsageError('--save-dir: give a folder');
			return { name, saveDir: saveDir ?? null };
		}
		case 'safety':
			return { name, peer: parseUsername(rest[0]), accept: values.accept ?? false };
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

function parseText(text: string): string {
	if (text.trim().length === 0) throw new UsageError('the message is empty');
	if (text.length > LIMITS.textMaxChars) {
		throw new UsageError(`the message is longer than ${LIMITS.textMaxChars} characters`);
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
