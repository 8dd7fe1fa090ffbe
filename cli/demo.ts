import { parseArgs } from 'node:util';
import { ApiError, HubApi } from '../src/lib/sdk';
import { DEFAULT_SERVER, parseServer, type Command } from './args';
import { runCommand } from './commands';
import { formatTime } from './format';
import { ProfileStore, defaultHome } from './profile';
import { EXIT, report } from './report';
import type { CliContext } from './session';

/**
 * `npm run demo`: against a running hub, makes the demo users alice and bob (or signs them in
 * when they exist, so it can run again) and has them exchange a few messages, printing each
 * step as the CLI command it is. Their keys are kept like the CLI keeps any account, so the
 * newcomer can go on with `npm run cli -- --user bob read`, or sign in to the PWA as either.
 */

const DEMO_PASSWORD = 'hourglass-demo-password';
const LOCK_MINUTES = 2;

async function demo(argv: string[], env: Record<string, string | undefined>): Promise<number> {
	let server: string;
	try {
		const { values } = parseArgs({ args: argv, options: { server: { type: 'string' } }, strict: true });
		server = parseServer(values.server ?? env.HOURGLASS_SERVER ?? DEFAULT_SERVER);
	} catch (error) {
		process.stderr.write(`demo: ${(error as Error).message}\nUsage: npm run demo -- [--server <url>]\n`);
		return EXIT.usage;
	}
	const password = env.HOURGLASS_DEMO_PASSWORD || DEMO_PASSWORD;
	const store = new ProfileStore(defaultHome(env));
	const previousCurrent = store.current(server);
	const as = (user: string): CliContext => ({
		server,
		user,
		store,
		password: async () => password,
		code: () => Promise.reject(new Error('the demo users do not use two-factor authentication')),
		newPassword: () => Promise.reject(new Error('the demo changes no password')),
		out: (line) => process.stdout.write(`  ${line.replaceAll('\n', '\n  ')}\n`),
	});
	const step = async (user: string, line: string, command: Exclude<Command, { name: 'help' }>) => {
		const who = command.name === 'register' || command.name === 'login' ? '' : `--user ${user} `;
		process.stdout.write(`\n$ hourglass ${who}${line}\n`);
		await runCommand(as(user), command);
	};

	try {
		process.stdout.write(`Hourglass demo on ${server}\nDemo users: alice and bob, password "${password}"\n`);
		for (const user of ['alice', 'bob']) {
			try {
				await step(user, `register ${user}`, { name: 'register', username: user });
			} catch (error) {
				if (!(error instanceof ApiError) || error.code !== 'USERNAME_TAKEN') throw error;
				process.stdout.write(`  (${user} exists already: signing in instead)\n`);
				await step(user, `login ${user}`, { name: 'login', username: user, trust: false, code: null });
			}
		}
		const hello = 'Hi Bob! Only you and I can read this: the hub relays ciphertext.';
		await step('alice', `send bob "${hello}"`, {
			name: 'send',
			to: 'bob',
			text: hello,
			unlockAt: null,
			announce: false,
		});
		await step('bob', 'read', { name: 'read', peer: null, saveDir: null });
		const reply = 'Hi Alice! Got it. Our safety numbers match, too.';
		await step('bob', `send alice "${reply}"`, {
			name: 'send',
			to: 'alice',
			text: reply,
			unlockAt: null,
			announce: false,
		});
		await step('alice', 'read', { name: 'read', peer: null, saveDir: null });

		const { serverNow } = await new HubApi({ baseUrl: server }).time();
		const unlockAt = serverNow + LOCK_MINUTES * 60_000;
		const surprise = `This one was sealed until ${formatTime(unlockAt)}.`;
		await step('alice', `send bob "${surprise}" --unlock ${new Date(unlockAt).toISOString()} --announce`, {
			name: 'send',
			to: 'bob',
			text: surprise,
			unlockAt,
			announce: true,
		});
		await step('bob', 'read', { name: 'read', peer: null, saveDir: null });

		process.stdout.write(
			`\nNext: open ${server} and sign in as alice or bob, or go on with the CLI:\n` +
				`  HOURGLASS_PASSWORD='${password}' npm run cli -- --server ${server} --user bob read\n` +
				`(alice's time-locked message reaches bob in ${LOCK_MINUTES} minutes.)\n`,
		);
		return EXIT.ok;
	} catch (error) {
		if (error instanceof ApiError && error.code === 'INVALID_CREDENTIALS') {
			process.stderr.write(
				`demo: alice or bob exists on ${server} with another password; run again with HOURGLASS_DEMO_PASSWORD set to it.\n`,
			);
			return EXIT.failed;
		}
		if (error instanceof ApiError && error.code === 'UNAVAILABLE') {
			process.stderr.write(
				`demo: no hub at ${server}. Start one with "npm start" (or pass --server <url>).\n`,
			);
			return EXIT.failed;
		}
		return report(error);
	} finally {
		// The demo users should not replace the account the CLI uses by default on this server.
		if (previousCurrent !== null) store.setCurrent(server, previousCurrent);
	}
}

process.exitCode = await demo(process.argv.slice(2), process.env);
