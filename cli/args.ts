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
import { t } from './i18n';
import { UnlockDateError, parseUnlockDate } from './unlock';

export const DEFAULT_SERVER = 'http://127.0.0.1:3000';

/** The help text (`hourglass help`) in the command line's language. */
export function usageText(): string {
	return t('help', { defaultServer: DEFAULT_SERVER });
}

/** "usage: hourglass …" in the command line's language. */
function usage(line: string): string {
	return t('args.usage', { line });
}

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

/** Every command, in the order of the help. */
export const COMMAND_NAMES = Object.keys(ARITY) as Command['name'][];

/** No argument can hold a NUL (the system ends each at the first), so none can look like a placeholder. */
const PLACEHOLDER = '\u0000';

/**
 * Session and file ids are base64url, so one in 64 begins with `-` (and one in 4,096 with `--`):
 * `hourglass sessions revoke -k3…` must take the id it printed, not options. A token with an id's
 * shape (a dash and five or more base64url characters) that is not shaped like an option (lower-case
 * words joined by dashes, as all of ours are) is hidden from `parseArgs` behind a placeholder and
 * put back afterwards; a mistyped option still gets `parseArgs`'s own error.
 */
function shieldIds(argv: string[]): { args: string[]; restore: (text: string) => string } {
	const hidden: string[] = [];
	const args = argv.map((token, index) => {
		if (argv.slice(0, index).includes('--')) return token;
		if (!/^-[A-Za-z0-9_-]{5,}$/.test(token) || /^--?[a-z]+(?:-[a-z]+)*$/.test(token)) return token;
		hidden.push(token);
		return `${PLACEHOLDER}${hidden.length - 1}`;
	});
	const restore = (text: string) =>
		text.startsWith(PLACEHOLDER) ? (hidden[Number(text.slice(PLACEHOLDER.length))] ?? text) : text;
	return { args, restore };
}

/** Parses the command line (without `node` and the script); pure apart from reading `env`. */
export function parseCommandLine(argv: string[], env: Record<string, string | undefined> = {}): Invocation {
	const { args, restore } = shieldIds(argv);
	let parsed;
	try {
		parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
	const values = Object.fromEntries(
		Object.entries(parsed.values).map(([key, value]) => [
			key,
			typeof value === 'string' ? restore(value) : value,
		]),
	) as typeof parsed.values;
	const positionals = parsed.positionals.map(restore);
	const server = parseServer(values.server ?? env.HOURGLASS_SERVER ?? DEFAULT_SERVER);
	const user = values.user === undefined ? null : parseUsername(values.user);
	if (values.help || positionals.length === 0) return { server, user, command: { name: 'help' } };

	const [name, ...rest] = positionals;
	if (!isCommandName(name)) throw new UsageError(t('args.unknownCommand', { name }));
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
			throw new UsageError(t('args.optionNotHere', { option, name }));
		}
	}
	const expected = ARITY[name];
	// `sessions` and `contacts` take a subcommand or none; they check their own arguments. `verify`
	// takes the digits in one argument or in several (the twelve groups, unquoted).
	const arityOk = name === 'verify' ? rest.length >= 2 : rest.length === expected.length;
	if (name !== 'sessions' && name !== 'contacts' && !arityOk) {
		const hint = name === 'send' && rest.length > 2 ? t('args.quoteText') : '';
		throw new UsageError(usage(['hourglass', name, ...expected].join(' ')) + hint);
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
				throw new UsageError(usage('hourglass 2fa enable|disable'));
			if (action === 'enable' && code !== null) {
				throw new UsageError(t('args.codeNotForEnable'));
			}
			return { name, action, code };
		}
		case 'send': {
			if (values.announce && values.unlock === undefined) {
				throw new UsageError(t('args.announceMessage'));
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
			if (!id.success) throw new UsageError(t('args.notMessageId', { text: rest[0] }));
			return { name, id: id.data, everyone: values.everyone ?? false };
		}
		case 'disappear': {
			const timer = rest[1];
			if (timer !== 'off' && !(DISAPPEARING_CHOICES as readonly string[]).includes(timer)) {
				throw new UsageError(usage('hourglass disappear <user> <off|5m|1h|1d|1w>'));
			}
			return { name, peer: parseUsername(rest[0]), timer: timer as DisappearingChoice | 'off' };
		}
		case 'send-file': {
			if (values.announce && values.unlock === undefined) {
				throw new UsageError(t('args.announceFile'));
			}
			if (rest[1].length === 0) throw new UsageError(t('args.filePath'));
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
				throw new UsageError(usage('hourglass account delete --yes'));
			if (values.yes !== true) {
				throw new UsageError(t('args.deleteNeedsYes'));
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
			if (rest[0] !== 'on' && rest[0] !== 'off') throw new UsageError(usage('hourglass receipts on|off'));
			return { name, on: rest[0] === 'on' };
		case 'read': {
			const saveDir = values['save-dir'];
			if (saveDir !== undefined && saveDir.length === 0) throw new UsageError(t('args.saveDir'));
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
		throw new UsageError(t('args.limit', { max: ACTIVITY_SHOWN_MAX, text }));
	}
	return n;
}

/** `contacts`, `contacts add <user>|<card link>` or `contacts remove <user>`. */
function parseContacts(rest: string[]): ContactsAction {
	if (rest.length === 0) return { kind: 'list' };
	const [action, target, ...extra] = rest;
	if ((action !== 'add' && action !== 'remove') || target === undefined || extra.length > 0) {
		throw new UsageError(usage('hourglass contacts [add <user>|<card link> | remove <user>]'));
	}
	if (action === 'add' && target.includes('#')) {
		const card = parseContactCard(target);
		if (!card) {
			throw new UsageError(t('args.notCard', { text: target }));
		}
		return { kind: 'add-card', card };
	}
	return { kind: action, peer: parseUsername(target) };
}

/** `sessions`, `sessions revoke <id>` or `sessions revoke --others`. */
function parseSessions(rest: string[], others: boolean): Command {
	const sessionsUsage = usage('hourglass sessions [revoke <id> | revoke --others]');
	if (rest.length === 0) {
		if (others) throw new UsageError(t('args.othersAlone'));
		return { name: 'sessions', revoke: null };
	}
	if (rest[0] !== 'revoke' || rest.length > 2) throw new UsageError(sessionsUsage);
	if (others) {
		if (rest.length === 2) throw new UsageError(t('args.idOrOthers'));
		return { name: 'sessions', revoke: 'others' };
	}
	if (rest.length !== 2) throw new UsageError(sessionsUsage);
	const id = rest[1];
	if (!new RegExp(`^[A-Za-z0-9_-]{${SESSION_ID_PREFIX_MIN},43}$`).test(id)) {
		throw new UsageError(t('args.notSessionId', { text: id, min: SESSION_ID_PREFIX_MIN }));
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
		throw new UsageError(t('args.serverNotUrl', { text, example: DEFAULT_SERVER }));
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new UsageError(t('args.serverScheme', { text }));
	}
	if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
		throw new UsageError(t('args.serverOrigin', { origin: url.origin }));
	}
	return url.origin;
}

function parseUsername(text: string): string {
	const parsed = UsernameInput.safeParse(text);
	if (!parsed.success) {
		throw new UsageError(t('args.notUsername', { text }));
	}
	return parsed.data;
}

/** A 6-digit TOTP code or a recovery code, as the shared schema takes it. */
export function parseCode(text: string): string {
	const parsed = SecondFactorCode.safeParse(text);
	if (!parsed.success) throw new UsageError(t('args.notCode', { text }));
	return parsed.data;
}

/** The 60 digits of a safety number (spaces or not), or a scanned safety code; checked against the peer later. */
function parseSafetyCodeArgument(text: string): string {
	try {
		parseSafetyCode(text);
	} catch (error) {
		if (!(error instanceof SafetyCodeError)) throw error;
		const why = {
			format: 'safetyCode.format',
			version: 'safetyCode.version',
			length: 'safetyCode.length',
			digits: 'safetyCode.digits',
		} as const;
		throw new UsageError(t(why[error.problem]));
	}
	return text.trim();
}

function parseText(text: string): string {
	if (text.trim().length === 0) throw new UsageError(t('args.emptyMessage'));
	if (text.length > LIMITS.textMaxChars) {
		// Nothing is cut: the whole text can go as a file instead.
		throw new UsageError(t('args.tooLong', { max: LIMITS.textMaxChars, length: text.length }));
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
