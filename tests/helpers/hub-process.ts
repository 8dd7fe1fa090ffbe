import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const START_TIMEOUT_MS = 60_000;

export interface HubProcess {
	child: ChildProcess;
	url: string;
	/** Resolves once the process has exited (at once if it has). */
	exited(): Promise<void>;
	/** SIGKILL, as a crash or an OOM kill would end it: no clean stop of any kind. */
	kill(): Promise<void>;
}

/**
 * The hub as an operator runs it (`tsx server/main.ts`), in a process of its own, so that a test
 * can kill it the way a crash would. `env` is given in full, over this process's environment.
 * With `echo`, what the hub prints once it runs (its warnings, as JSON lines) goes on to this
 * process's output.
 */
export function startHubProcess(
	env: Record<string, string>,
	{ echo = false }: { echo?: boolean } = {},
): Promise<HubProcess> {
	const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server/main.ts')], {
		cwd: ROOT,
		env: { ...process.env, ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	const gone = new Promise<void>((done) => child.once('exit', () => done()));
	const exited = () => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : gone);
	let output = '';
	return new Promise((done, fail) => {
		const timer = setTimeout(() => fail(new Error(`the hub did not start:\n${output}`)), START_TIMEOUT_MS);
		child.stdout?.on('data', (chunk: Buffer) => {
			output += chunk.toString();
			const match = /running at (\S+)/.exec(output);
			if (match) {
				clearTimeout(timer);
				if (echo) {
					child.stdout?.on('data', (more: Buffer) => process.stdout.write(more));
					child.stderr?.on('data', (more: Buffer) => process.stderr.write(more));
				}
				done({
					child,
					url: match[1],
					exited,
					async kill() {
						if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
						await exited();
					},
				});
			}
		});
		child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
		child.once('exit', (code) => {
			clearTimeout(timer);
			fail(new Error(`the hub exited (${code}) before it started:\n${output}`));
		});
	});
}
