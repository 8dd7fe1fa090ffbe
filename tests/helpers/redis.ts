import { spawn } from 'node:child_process';
import { freePort, portOpen } from '../../server/net';

export interface TestRedis {
	url: string;
	port: number;
	stop(): Promise<void>;
	/** SIGKILL, as a crash: no goodbye to its clients. Start another on `port` to bring it back. */
	kill(): Promise<void>;
}

/** A throwaway redis-server (Debian's) on a free port (or `port`), without persistence. */
export async function startRedis(options: { port?: number; timeoutMs?: number } = {}): Promise<TestRedis> {
	const { timeoutMs = 10_000 } = options;
	const port = options.port ?? (await freePort());
	const child = spawn(
		'redis-server',
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
		{
			stdio: 'ignore',
		},
	);
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	const started = Date.now();
	while (!(await portOpen(port))) {
		if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
		if (Date.now() - started > timeoutMs) {
			child.kill('SIGKILL');
			throw new Error(`redis-server did not answer within ${timeoutMs} ms`);
		}
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
	const end = async (signal: NodeJS.Signals) => {
		if (child.exitCode !== null || child.signalCode !== null) return;
		child.kill(signal);
		await exited;
	};
	return {
		url: `redis://127.0.0.1:${port}`,
		port,
		stop: () => end('SIGTERM'),
		kill: () => end('SIGKILL'),
	};
}
