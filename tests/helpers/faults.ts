import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP link between a hub and its database that a test can break the way networks do: requests
 * still reach the database (and take effect there) while its replies are held back. Used to stop
 * a hub between its write and what follows the write, for real.
 */
export interface FaultyLink {
	/** The database URI with its host and port replaced by this link's. */
	readonly uri: string;
	/** Holds every reply from now on. */
	hold(): void;
	/** Holds every reply once a request carrying `marker` has gone through; resolves then. */
	holdAfter(marker: string): Promise<void>;
	/** Delivers the held replies and lets the next ones through. */
	release(): void;
	close(): Promise<void>;
}

interface Pair {
	client: Socket;
	upstream: Socket;
	held: Buffer[];
}

export async function startFaultyLink(targetUri: string): Promise<FaultyLink> {
	const target = new URL(targetUri);
	const pairs = new Set<Pair>();
	let holding = false;
	let watch: { marker: Buffer; seen: () => void } | null = null;

	const server: Server = createServer((client) => {
		const upstream = connect(Number(target.port), target.hostname);
		const pair: Pair = { client, upstream, held: [] };
		pairs.add(pair);
		// The tail of the previous chunk, so a marker split across two chunks is still found.
		let tail = Buffer.alloc(0);
		client.on('data', (chunk: Buffer) => {
			upstream.write(chunk);
			if (!watch) return;
			const window = Buffer.concat([tail, chunk]);
			tail = window.subarray(Math.max(0, window.length - watch.marker.length));
			if (window.includes(watch.marker)) {
				holding = true;
				const { seen } = watch;
				watch = null;
				seen();
			}
		});
		upstream.on('data', (chunk: Buffer) => {
			if (holding) pair.held.push(chunk);
			else client.write(chunk);
		});
		const drop = () => {
			pairs.delete(pair);
			client.destroy();
			upstream.destroy();
		};
		client.on('close', drop);
		upstream.on('close', drop);
		client.on('error', drop);
		upstream.on('error', drop);
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve());
	});
	const address = server.address();
	const port = typeof address === 'object' && address ? address.port : 0;
	const uri = new URL(targetUri);
	uri.host = `127.0.0.1:${port}`;

	return {
		uri: uri.toString(),
		hold() {
			holding = true;
		},
		holdAfter(marker) {
			return new Promise((resolve) => {
				watch = { marker: Buffer.from(marker), seen: resolve };
			});
		},
		release() {
			holding = false;
			for (const pair of pairs) {
				for (const chunk of pair.held) pair.client.write(chunk);
				pair.held = [];
			}
		},
		close() {
			for (const pair of pairs) {
				pair.client.destroy();
				pair.upstream.destroy();
			}
			return new Promise((resolve) => server.close(() => resolve()));
		},
	};
}

/**
 * A TCP hop in front of a hub (or of Redis), for a client that must lose it mid-transfer: the hub's replies go
 * through at `bytesPerSecond` (each connection), the HTTP/1.1 request lines that pass are recorded,
 * and `cut()` breaks every connection and refuses new ones until `restore()`.
 */
export interface ThrottledProxy {
	/** The target's URL (scheme, host and port) with its host and port replaced by this proxy's. */
	readonly url: string;
	/** Request lines forwarded to the hub, in order: `GET /api/files/<id>/content?from=3 HTTP/1.1`. */
	readonly requests: string[];
	cut(): void;
	restore(): void;
	close(): Promise<void>;
}

/** Longest request line kept while waiting for its end: what is longer is a body, not a request line. */
const REQUEST_LINE_MAX = 8 * 1024;

export async function startThrottledProxy(
	targetUrl: string,
	bytesPerSecond: number,
): Promise<ThrottledProxy> {
	const target = new URL(targetUrl);
	const sockets = new Set<Socket>();
	const requests: string[] = [];
	let refusing = false;

	const server: Server = createServer((client) => {
		if (refusing) {
			client.resetAndDestroy();
			return;
		}
		const upstream = connect(Number(target.port), target.hostname);
		sockets.add(client).add(upstream);
		let line = '';
		client.on('data', (chunk: Buffer) => {
			upstream.write(chunk);
			const lines = (line + chunk.toString('latin1')).split('\r\n');
			line = lines.pop()!.slice(0, REQUEST_LINE_MAX);
			for (const l of lines) if (/^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(l)) requests.push(l);
		});
		// One chunk at a time, each followed by the pause that its size takes at the rate.
		upstream.on('data', (chunk: Buffer) => {
			client.write(chunk);
			upstream.pause();
			setTimeout(() => upstream.resume(), (chunk.length / bytesPerSecond) * 1000);
		});
		const drop = () => {
			sockets.delete(client);
			sockets.delete(upstream);
			client.destroy();
			upstream.destroy();
		};
		for (const socket of [client, upstream]) socket.on('close', drop).on('error', drop);
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve());
	});
	const address = server.address();
	const url = new URL(targetUrl);
	url.host = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
	const breakAll = () => {
		for (const socket of sockets) socket.destroy();
		sockets.clear();
	};

	return {
		// Not `origin`: a redis:// URL has none.
		url: `${url.protocol}//${url.host}`,
		requests,
		cut() {
			refusing = true;
			breakAll();
		},
		restore() {
			refusing = false;
		},
		close() {
			breakAll();
			return new Promise((resolve) => server.close(() => resolve()));
		},
	};
}
