/**
 * `npm run bench:files`: one large file encrypted, uploaded, downloaded and decrypted through the
 * SDK (src/lib/sdk/files.ts) against a hub in a process of its own (server/main.ts, its own
 * database). Prints the hub's RSS growth during the transfer (goal < 64 MiB), the upload rate
 * beside a plain streamed upload of as many bytes to a bare Fastify sink in this process, measured
 * in the same run (goal: ratio ≥ 0.5), and whether the plaintext's hash is the same at both ends.
 * The plaintext is generated as it is read and never held whole, on either side.
 *
 *   npm run bench:files -- [--size 1024] (MiB, default 1 GiB) [--chunk 256] (KiB of plaintext)
 *                          [--concurrency 4] [--mongodb-uri mongodb://…]
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { fileLayout, ready } from '../src/lib/crypto';
import {
	HubApi,
	Messenger,
	connectHub,
	createAccount,
	downloadFile,
	sendFile,
	type FileSource,
} from '../src/lib/sdk';
import { waitForConnect } from '../tests/helpers/users';
import { startBenchHubProcess } from './lib/harness';
import { integerOption } from './lib/options';
import { fixed, table } from './lib/stats';

const MiB = 1024 * 1024;
const BLOCK = MiB;
const RSS_EVERY_MS = 100;

interface Options {
	sizeMiB: number;
	chunkKiB: number;
	concurrency: number;
	mongodbUri: string | undefined;
}

function readOptions(argv: string[]): Options {
	const { values } = parseArgs({
		args: argv,
		options: {
			size: { type: 'string', default: '1024' },
			chunk: { type: 'string', default: '256' },
			concurrency: { type: 'string', default: '4' },
			'mongodb-uri': { type: 'string' },
		},
		strict: true,
	});
	return {
		sizeMiB: integerOption('size', values.size, 1, 16 * 1024),
		chunkKiB: integerOption('chunk', values.chunk, 1, 1024),
		concurrency: integerOption('concurrency', values.concurrency, 1, 64),
		mongodbUri: values['mongodb-uri'],
	};
}

function rssBytes(pid: number): number {
	const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
	if (!kb) throw new Error(`no VmRSS for ${pid}`);
	return Number(kb[1]) * 1024;
}

/** The hub's highest RSS while `run` runs, sampled every RSS_EVERY_MS. */
async function peakRss<T>(pid: number, run: () => Promise<T>): Promise<{ result: T; peak: number }> {
	let peak = rssBytes(pid);
	const timer = setInterval(() => {
		peak = Math.max(peak, rssBytes(pid));
	}, RSS_EVERY_MS);
	try {
		const result = await run();
		peak = Math.max(peak, rssBytes(pid));
		return { result, peak };
	} finally {
		clearInterval(timer);
	}
}

/** `size` random bytes, made a block at a time as they are read; their SHA-256 once read to the end. */
function generatedSource(size: number): FileSource & { name: string; mime: string; digest(): string } {
	const hash = createHash('sha256');
	let digest: string | null = null;
	return {
		size,
		name: 'bench.bin',
		mime: 'application/octet-stream',
		async *read() {
			for (let left = size; left > 0; left -= BLOCK) {
				const block = randomBytes(Math.min(BLOCK, left));
				hash.update(block);
				yield block;
			}
			digest = hash.digest('hex');
		},
		digest() {
			if (digest === null) throw new Error('the source was not read to its end');
			return digest;
		},
	};
}

/** A bare Fastify server in this process that takes a streamed body and drops it: the plain upload. */
async function startSink(): Promise<{ url: string; close(): Promise<void> }> {
	const app = Fastify();
	app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
	app.put('/sink', async (request) => {
		let bytes = 0;
		for await (const piece of request.body as AsyncIterable<Buffer>) bytes += piece.length;
		return { bytes };
	});
	await app.listen({ port: 0, host: '127.0.0.1' });
	const { port } = app.server.address() as AddressInfo;
	return { url: `http://127.0.0.1:${port}/sink`, close: () => app.close() };
}

/** Streams `size` random bytes in one PUT, as the baseline for the upload rate. */
async function plainUpload(url: string, size: number): Promise<number> {
	const body = new ReadableStream<Uint8Array>({
		left: size,
		pull(controller) {
			const n = Math.min(BLOCK, this.left);
			this.left -= n;
			controller.enqueue(randomBytes(n));
			if (this.left === 0) controller.close();
		},
	} as UnderlyingDefaultSource<Uint8Array> & { left: number });
	const started = performance.now();
	const response = await fetch(url, {
		method: 'PUT',
		headers: { 'content-type': 'application/octet-stream' },
		body,
		duplex: 'half',
	} as RequestInit);
	const { bytes } = (await response.json()) as { bytes: number };
	if (bytes !== size) throw new Error(`the sink took ${bytes} bytes of ${size}`);
	return performance.now() - started;
}

async function signUp(url: string, username: string) {
	const api = new HubApi({ baseUrl: url, keepCookies: true });
	const account = await createAccount(api, username, 'bench password, not secret');
	const socket = await waitForConnect(connectHub(url, { cookie: api.cookieHeader() }));
	return { api, socket, messenger: new Messenger({ api, socket, account }) };
}

async function main(): Promise<void> {
	const options = readOptions(process.argv.slice(2));
	await ready();
	const size = options.sizeMiB * MiB;
	const chunkSize = options.chunkKiB * 1024;
	const layout = fileLayout(size, chunkSize);
	const hub = await startBenchHubProcess('files', options.mongodbUri, {
		env: { FILE_MAX_BYTES: String(layout.ciphertextBytes) },
	});
	const sink = await startSink();
	try {
		const runId = Date.now().toString(36);
		const alice = await signUp(hub.url, `fa-${runId}`);
		const bob = await signUp(hub.url, `fb-${runId}`);
		const source = generatedSource(size);
		const rssBefore = rssBytes(hub.pid);

		const upload = await peakRss(hub.pid, async () => {
			const started = performance.now();
			const sent = await sendFile(alice.messenger, bob.messenger.username, source, {
				chunkSize,
				concurrency: options.concurrency,
			});
			return { sent, ms: performance.now() - started };
		});

		const page = await bob.messenger.sync(null);
		const message = page.messages.find((m) => m.id === upload.result.sent.envelope.id);
		if (!message?.file) throw new Error('the recipient did not get the file message');
		const received = createHash('sha256');
		const download = await peakRss(hub.pid, async () => {
			const started = performance.now();
			await downloadFile(bob.api, message.file!, { write: (bytes) => void received.update(bytes) });
			return performance.now() - started;
		});
		const plainMs = await plainUpload(sink.url, layout.ciphertextBytes);

		const sentHash = source.digest();
		const receivedHash = received.digest('hex');
		const mibPerS = (bytes: number, ms: number) => bytes / MiB / (ms / 1000);
		const uploadRate = mibPerS(layout.ciphertextBytes, upload.result.ms);
		const plainRate = mibPerS(layout.ciphertextBytes, plainMs);
		const growth = Math.max(upload.peak, download.peak) - rssBefore;
		console.log(
			`\nfiles: ${options.sizeMiB} MiB in ${layout.chunkCount} chunks of ${options.chunkKiB} KiB, ` +
				`${options.concurrency} in flight, database ${hub.dbKind}\n`,
		);
		console.log(
			table([
				['measure', 'value', 'goal'],
				['upload (encrypt + send + finish)', `${fixed(uploadRate, 1)} MiB/s`, ''],
				['plain upload to a bare Fastify sink', `${fixed(plainRate, 1)} MiB/s`, ''],
				['upload ÷ plain', fixed(uploadRate / plainRate, 2), '≥ 0.5'],
				[
					'download (receive + decrypt + check)',
					`${fixed(mibPerS(layout.ciphertextBytes, download.result), 1)} MiB/s`,
					'',
				],
				['hub RSS growth (peak − before)', `${fixed(growth / MiB, 1)} MiB`, '< 64 MiB'],
				['plaintext SHA-256 equal at both ends', sentHash === receivedHash ? 'yes' : 'NO', 'yes'],
			]),
		);
		if (sentHash !== receivedHash) process.exitCode = 1;
		alice.socket.close();
		bob.socket.close();
	} finally {
		await sink.close();
		await hub.close();
	}
}

await main();
