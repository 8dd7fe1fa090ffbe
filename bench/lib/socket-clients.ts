/**
 * A child process of `npm run bench:sockets`: opens `count` idle sockets to `url` (on 127.0.0.1),
 * at most CONNECTS_IN_FLIGHT handshakes at a time, each with the cookie (hub) or the name (bare
 * relay) given for it, prints one JSON line `{connected, failed, ms}`, then holds them until its
 * stdin closes. Input (JSON on argv[2]): {url, kind: 'hub' | 'bare', credentials: string[], count}.
 */
import { connectHub, type HubSocket } from '../../src/lib/sdk';
import { connectBare } from './bare-relay';

/** Enough to keep the server busy, few enough that no handshake waits long in a queue. */
const CONNECTS_IN_FLIGHT = 64;
const CONNECT_TIMEOUT_MS = 30_000;

interface Input {
	url: string;
	kind: 'hub' | 'bare';
	credentials: string[];
	count: number;
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const sockets: HubSocket[] = [];
let failed = 0;
const open = (i: number) =>
	new Promise<void>((resolve) => {
		const credential = input.credentials[i % input.credentials.length];
		const socket =
			input.kind === 'hub'
				? connectHub(input.url, { cookie: credential })
				: connectBare(input.url, credential);
		socket.io.opts.reconnection = false;
		sockets.push(socket);
		const timer = setTimeout(() => {
			failed++;
			resolve();
		}, CONNECT_TIMEOUT_MS);
		socket.once('connect', () => {
			clearTimeout(timer);
			resolve();
		});
		socket.once('connect_error', () => {
			clearTimeout(timer);
			failed++;
			resolve();
		});
	});

const started = performance.now();
let next = 0;
await Promise.all(
	Array.from({ length: CONNECTS_IN_FLIGHT }, async () => {
		while (next < input.count) await open(next++);
	}),
);
process.stdout.write(
	`${JSON.stringify({ connected: input.count - failed, failed, ms: performance.now() - started })}\n`,
);
process.stdin.resume();
process.stdin.once('end', () => {
	for (const socket of sockets) socket.close();
	process.exit(0);
});
