import { spawn } from 'node:child_process';
import { freePort, portOpen } from '../../server/net';

export interface TestRedis {
	url: string;
	stop(): Promise<void>;
}

/** A throwaway redis-server (Debian's) on a free port, without persistence. */
export async function startRedis(timeoutMs = 10_000): Promise<TestRedis> {
	const port = await freePort();
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
	return {
		url: `redis://127.0.0.1:${port}`,
		async stop() {
			if (child.exitCode !== null) return;
			child.kill('SIGTERM');
			await exited;
		},
	};
}
