import { createInterface, type Interface } from 'node:readline';
import { UsageError } from './args';
import { t } from './i18n';

/**
 * A new password (hourglass password): $HOURGLASS_NEW_PASSWORD, else a prompt asked twice. Not from
 * stdin, whose first line may already be the current password.
 */
export async function readNewPassword(
	prompt: string,
	options: { env: Record<string, string | undefined> },
): Promise<string> {
	const fromEnv = options.env.HOURGLASS_NEW_PASSWORD;
	if (fromEnv) return fromEnv;
	if (!process.stdin.isTTY) throw new UsageError(t('password.noNew'));
	const password = await promptHidden(prompt);
	if ((await promptHidden(t('prompt.repeatNew'))) !== password) throw new UsageError(t('password.differ'));
	return password;
}

/**
 * The password: $HOURGLASS_PASSWORD; else, on a terminal, a prompt that does not echo;
 * else the first line of stdin (so scripts can pipe it without putting it in the environment).
 */
export async function readPassword(
	prompt: string,
	options: { env: Record<string, string | undefined>; confirm?: boolean },
): Promise<string> {
	const fromEnv = options.env.HOURGLASS_PASSWORD;
	if (fromEnv) return fromEnv;
	if (!process.stdin.isTTY) {
		const line = await firstLineOfStdin();
		if (!line) throw new UsageError(t('password.none'));
		return line;
	}
	const password = await promptHidden(prompt);
	if (options.confirm && (await promptHidden(t('prompt.repeat'))) !== password) {
		throw new UsageError(t('password.differ'));
	}
	return password;
}

/**
 * A code for two-factor authentication: on a terminal, a prompt (codes change every 30 s, so
 * echoing one does no harm); else the next line of stdin.
 */
export async function readCode(prompt: string): Promise<string> {
	if (process.stdin.isTTY) process.stderr.write(prompt);
	const line = await firstLineOfStdin();
	if (!line) throw new UsageError(t('password.noCode'));
	return line.trim();
}

let stdinReader: Interface | null = null;
let stdinLines: AsyncIterator<string> | null = null;

/** Lets go of stdin once the command is done, so the process can exit. */
export function closeStdin(): void {
	stdinReader?.close();
	stdinReader = null;
	stdinLines = null;
}

/** The next line of stdin; one reader for the whole run, so a password and then a code can both come from it. */
async function firstLineOfStdin(): Promise<string | null> {
	if (!stdinLines) {
		stdinReader = createInterface({ input: process.stdin, terminal: false });
		stdinLines = stdinReader[Symbol.asyncIterator]();
	}
	const next = await stdinLines.next();
	return next.done ? null : next.value;
}

/** Reads one line in raw mode, echoing nothing; Ctrl-C and Ctrl-D abort. */
function promptHidden(prompt: string): Promise<string> {
	const stdin = process.stdin;
	process.stderr.write(prompt);
	stdin.setRawMode(true);
	stdin.resume();
	stdin.setEncoding('utf8');
	return new Promise((resolve, reject) => {
		let typed = '';
		const finish = (error: Error | null) => {
			stdin.off('data', onData);
			stdin.setRawMode(false);
			stdin.pause();
			process.stderr.write('\n');
			if (error) reject(error);
			else resolve(typed);
		};
		const onData = (chunk: string) => {
			for (const char of chunk) {
				if (char === '\r' || char === '\n') return finish(null);
				if (char === '\u0003' || char === '\u0004') return finish(new UsageError('cancelled'));
				if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
				else if (char >= ' ') typed += char;
			}
		};
		stdin.on('data', onData);
	});
}
