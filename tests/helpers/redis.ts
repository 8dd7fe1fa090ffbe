import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';

export interface TestRedis {
	url: string;
	port: number;
	stop(): Promise<void>;
	/** SIGKILL, as a crash: no goodbye to its clients. Start another on `port` to bring it back. */
	kill(): Promise<void>;
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

function answers(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = connect(port, '127.0.0.1');
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
	});
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
	while (!(await answers(port))) {
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
