import { createInterface } from 'node:readline';
import { UsageError } from './args';

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
	if (!process.stdin.isTTY)
		throw new UsageError('no new password: set HOURGLASS_NEW_PASSWORD or run the command in a terminal');
	const password = await promptHidden(prompt);
	if ((await promptHidden('Repeat the new password: ')) !== password)
		throw new UsageError('the two passwords differ');
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
		if (!line) throw new UsageError('no password: set HOURGLASS_PASSWORD or run the command in a terminal');
		return line;
	}
	const password = await promptHidden(prompt);
	if (options.confirm && (await promptHidden('Repeat the password: ')) !== password) {
		throw new UsageError('the two passwords differ');
	}
	return password;
}

async function firstLineOfStdin(): Promise<string | null> {
	const lines = createInterface({ input: process.stdin, terminal: false });
	try {
		for await (const line of lines) return line;
		return null;
	} finally {
		lines.close();
	}
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
