import { UsageError, parseCommandLine, usageText } from './args';
import { runCommand } from './commands';
import { setCliLocale, t } from './i18n';
import { closeStdin, readCode, readNewPassword, readPassword } from './password';
import { ProfileStore, defaultHome } from './profile';
import { EXIT, report } from './report';

async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
	setCliLocale(env);
	let invocation;
	try {
		invocation = parseCommandLine(argv, env);
	} catch (error) {
		if (!(error instanceof UsageError)) throw error;
		process.stderr.write(`hourglass: ${error.message}\n${t('main.helpHint')}\n`);
		return EXIT.usage;
	}
	const { server, user, command } = invocation;
	if (command.name === 'help') {
		process.stdout.write(`${usageText()}\n`);
		return EXIT.ok;
	}
	const ctx = {
		server,
		user,
		store: new ProfileStore(defaultHome(env)),
		password: (prompt: string, confirm?: boolean) => readPassword(prompt, { env, confirm }),
		code: readCode,
		newPassword: (prompt: string) => readNewPassword(prompt, { env }),
		out: (line: string) => process.stdout.write(`${line}\n`),
		progress: (line: string, done: boolean) => process.stderr.write(`\r${line}${done ? '\n' : ''}`),
	};
	try {
		await runCommand(ctx, command);
		return EXIT.ok;
	} catch (error) {
		return report(error);
	} finally {
		closeStdin();
	}
}

process.exitCode = await main(process.argv.slice(2), process.env);
