import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const START_TIMEOUT_MS = 60_000;

export interface HubProcess {
	child: ChildProcess;
	url: string;
	/** Resolves once the process has exited (at once if it has already). */
	exited: Promise<void>;
	/** Sends `signal` unless the process has exited, then waits for the exit. */
	stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * The hub as an operator runs it (`tsx server/main.ts`), in a process of its own with `env` over
 * this process's environment; resolves with its URL once it listens. What it prints before is
 * quoted if it fails to start; afterwards it goes on to this process's output with `forwardOutput`
 * (a bench's warnings), else it is dropped.
 */
export function startHubProcess(
	env: Record<string, string>,
	options: { forwardOutput?: boolean } = {},
): Promise<HubProcess> {
	const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server/main.ts')], {
		cwd: ROOT,
		env: { ...process.env, ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	const exited = new Promise<void>((done) => child.once('exit', () => done()));
	const hub = (url: string): HubProcess => ({
		child,
		url,
		exited,
		async stop(signal = 'SIGTERM') {
			if (child.exitCode === null && child.signalCode === null) child.kill(signal);
			await exited;
		},
	});
	let output = '';
	let started = false;
	const onOutput = (target: NodeJS.WriteStream) => (chunk: Buffer) => {
		if (started) {
			if (options.forwardOutput) target.write(chunk);
			return;
		}
		output = (output + chunk.toString()).slice(-100_000);
	};
	child.stdout.on('data', onOutput(process.stdout));
	child.stderr.on('data', onOutput(process.stderr));
	return new Promise((done, fail) => {
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			fail(new Error(`the hub did not start within ${START_TIMEOUT_MS / 1000} s:\n${output}`));
		}, START_TIMEOUT_MS);
		const onStart = () => {
			const match = /running at (\S+)/.exec(output);
			if (!match) return;
			started = true;
			clearTimeout(timer);
			child.stdout.off('data', onStart);
			done(hub(match[1]));
		};
		child.stdout.on('data', onStart);
		child.once('exit', (code) => {
			clearTimeout(timer);
			if (!started) fail(new Error(`the hub exited (${code}) before it started:\n${output}`));
		});
	});
}
