/**
 * `npm run bench:files`: files encrypted, uploaded, downloaded and decrypted through the SDK
 * (src/lib/sdk/files.ts) against a hub in a process of its own (server/main.ts, its own database),
 * at several sizes. For each it prints the hub's RSS growth during the transfer (goal < 64 MiB) with
 * the hub's own heap, external and array-buffer figures at that peak, and the upload rate beside
 * the baseline the issue names: a plain upload of as many bytes to the same hub in the same run,
 * through the hub's own file routes (create, a raw PUT per chunk of the same layout, finish) by
 * the simplest client — no encryption, no SDK — at the concurrency that is fastest for it, picked
 * by a probe at the start of the run (goal: ratio ≥ 0.5). A streamed upload to a bare Fastify
 * sink in this process is printed as well, as what the loopback alone allows. It checks that the
 * plaintext's hash is the same at both ends, and prints the load average, since a busy machine
 * makes every figure a floor. The plaintext is generated as it is read and never held whole.
 *
 *   npm run bench:files -- [--sizes 16,256,1024] (MiB) [--chunk 256] (KiB of plaintext)
 *                          [--concurrency 8] [--plain-concurrency 1,2,4,8] [--mongodb-uri mongodb://…]
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { fileLayout, ready, type FileLayout } from '../src/lib/crypto';
import { FILE_CONTENT_TYPE, ROUTES } from '../src/lib/protocol';
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
import { integerOption, nodeArgsOption } from './lib/options';
import { fixed, table } from './lib/stats';

const MiB = 1024 * 1024;
const BLOCK = MiB;
const SAMPLE_EVERY_MS = 100;
const SAMPLER = join(dirname(fileURLToPath(import.meta.url)), 'lib/memory-sampler.mjs');

interface Options {
	sizesMiB: number[];
	chunkKiB: number;
	concurrency: number;
	plainConcurrencies: number[];
	hubNodeArgs: string[];
	mongodbUri: string | undefined;
}

function integerList(name: string, text: string, min: number, max: number): number[] {
	return text.split(',').map((part) => integerOption(name, part.trim(), min, max));
}

function readOptions(argv: string[]): Options {
	const { values } = parseArgs({
		args: argv,
		options: {
			sizes: { type: 'string', default: '16,256,1024' },
			chunk: { type: 'string', default: '256' },
			concurrency: { type: 'string', default: '8' },
			'plain-concurrency': { type: 'string', default: '1,2,4,8' },
			'hub-node-args': { type: 'string', default: '' },
			'mongodb-uri': { type: 'string' },
		},
		strict: true,
	});
	return {
		sizesMiB: integerList('sizes', values.sizes, 1, 16 * 1024),
		chunkKiB: integerOption('chunk', values.chunk, 1, 1024),
		concurrency: integerOption('concurrency', values.concurrency, 1, 64),
		plainConcurrencies: integerList('plain-concurrency', values['plain-concurrency'], 1, 64),
		hubNodeArgs: nodeArgsOption(values['hub-node-args']),
		mongodbUri: values['mongodb-uri'],
	};
}

function rssBytes(pid: number): number {
	const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
	if (!kb) throw new Error(`no VmRSS for ${pid}`);
	return Number(kb[1]) * 1024;
}

/** The hub's last `process.memoryUsage()`, as bench/lib/memory-sampler.mjs wrote it. */
function hubMemory(file: string): NodeJS.MemoryUsage | null {
	try {
		return JSON.parse(readFileSync(file, 'utf8')) as NodeJS.MemoryUsage;
	} catch {
		return null;
	}
}

interface Peak {
	rss: number;
	/** The hub's own figures at its highest heap + external seen. */
	memory: NodeJS.MemoryUsage | null;
}

/** The hub's highest RSS (and its memoryUsage at the highest heap + external) while `run` runs. */
async function peakDuring<T>(
	pid: number,
	sampleFile: string,
	run: () => Promise<T>,
): Promise<{ result: T; peak: Peak }> {
	const peak: Peak = { rss: rssBytes(pid), memory: null };
	const sample = () => {
		peak.rss = Math.max(peak.rss, rssBytes(pid));
		const memory = hubMemory(sampleFile);
		const total = (m: NodeJS.MemoryUsage) => m.heapUsed + m.external;
		if (memory && (!peak.memory || total(memory) > total(peak.memory))) peak.memory = memory;
	};
	const timer = setInterval(sample, SAMPLE_EVERY_MS);
	try {
		const result = await run();
		sample();
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

/** A bare Fastify server in this process that takes a streamed body and drops it. */
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

/** Streams `size` random bytes in one PUT to the bare sink. */
async function sinkUpload(url: string, size: number): Promise<number> {
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

/**
 * The baseline: as many bytes as the encrypted file, in the same chunks, through the hub's own
 * routes (create, one raw PUT per chunk, `concurrency` in flight, finish), random bytes made per
 * chunk and nothing else done to them. Returns the milliseconds from create to finish.
 */
async function hubPlainUpload(
	hubUrl: string,
	api: HubApi,
	layout: FileLayout,
	concurrency: number,
): Promise<number> {
	const started = performance.now();
	const created = await api.createFile({
		size: layout.ciphertextBytes,
		chunks: layout.chunkCount,
		chunkBytes: layout.chunkBytes(0),
	});
	const headers = { 'content-type': FILE_CONTENT_TYPE, cookie: api.cookieHeader() ?? '', origin: hubUrl };
	let next = 0;
	const worker = async () => {
		while (next < layout.chunkCount) {
			const n = next++;
			const response = await fetch(hubUrl + ROUTES.fileChunk(created.fileId, n), {
				method: 'PUT',
				headers,
				body: randomBytes(layout.chunkBytes(n)),
			});
			if (response.status !== 204) throw new Error(`chunk ${n}: ${response.status} ${await response.text()}`);
		}
	};
	await Promise.all(Array.from({ length: concurrency }, worker));
	await api.finishFile(created.fileId);
	return performance.now() - started;
}

async function signUp(url: string, username: string) {
	const api = new HubApi({ baseUrl: url, keepCookies: true });
	const account = await createAccount(api, username, 'bench password, not secret');
	const socket = await waitForConnect(connectHub(url, { cookie: api.cookieHeader() }));
	return { api, socket, messenger: new Messenger({ api, socket, account }) };
}

const mibPerS = (bytes: number, ms: number) => bytes / MiB / (ms / 1000);
const mib = (bytes: number) => `${fixed(bytes / MiB, 1)} MiB`;

async function main(): Promise<void> {
	const options = readOptions(process.argv.slice(2));
	await ready();
	const chunkSize = options.chunkKiB * 1024;
	const largest = fileLayout(Math.max(...options.sizesMiB) * MiB, chunkSize);
	const sampleDir = mkdtempSync(join(tmpdir(), 'hourglass-files-bench-'));
	const sampleFile = join(sampleDir, 'memory.json');
	const hub = await startBenchHubProcess('files', options.mongodbUri, {
		nodeArgs: [...options.hubNodeArgs, '--import', SAMPLER],
		env: { FILE_MAX_BYTES: String(largest.ciphertextBytes), MEMORY_SAMPLE_FILE: sampleFile },
	});
	const sink = await startSink();
	const loadBefore = loadavg();
	try {
		const runId = Date.now().toString(36);
		const alice = await signUp(hub.url, `fa-${runId}`);
		const bob = await signUp(hub.url, `fb-${runId}`);
		// Growth is counted from here, before any file traffic (the probe's included).
		await new Promise((done) => setTimeout(done, 3 * SAMPLE_EVERY_MS));
		const rssIdle = rssBytes(hub.pid);
		const memoryIdle = hubMemory(sampleFile);

		// The plain client's best concurrency, on the smallest size (at least 16 MiB).
		const probe = fileLayout(Math.max(16, Math.min(...options.sizesMiB)) * MiB, chunkSize);
		const probeRows: string[][] = [['plain upload to the hub, in flight', 'MiB/s']];
		let best = { concurrency: options.plainConcurrencies[0], rate: 0 };
		for (const concurrency of options.plainConcurrencies) {
			const rate = mibPerS(
				probe.ciphertextBytes,
				await hubPlainUpload(hub.url, alice.api, probe, concurrency),
			);
			probeRows.push([String(concurrency), fixed(rate, 1)]);
			if (rate > best.rate) best = { concurrency, rate };
		}
		console.log(`\nprobe: ${mib(probe.ciphertextBytes)} per upload\n${table(probeRows)}`);

		const rows: string[][] = [
			[
				'size',
				'SDK upload',
				'plain to hub',
				'SDK ÷ plain (≥ 0.5)',
				'bare sink',
				'download',
				'hub RSS peak − idle (< 64 MiB)',
				'hub heap / external / arrayBuffers at peak',
				'hash equal',
			],
		];
		let allEqual = true;
		for (const sizeMiB of options.sizesMiB) {
			const size = sizeMiB * MiB;
			const layout = fileLayout(size, chunkSize);
			const source = generatedSource(size);

			const upload = await peakDuring(hub.pid, sampleFile, async () => {
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
			const download = await peakDuring(hub.pid, sampleFile, async () => {
				const started = performance.now();
				await downloadFile(bob.api, message.file!, { write: (bytes) => void received.update(bytes) });
				return performance.now() - started;
			});
			const plainMs = await hubPlainUpload(hub.url, alice.api, layout, best.concurrency);
			const sinkMs = await sinkUpload(sink.url, layout.ciphertextBytes);

			const equal = source.digest() === received.digest('hex');
			allEqual &&= equal;
			const uploadRate = mibPerS(layout.ciphertextBytes, upload.result.ms);
			const plainRate = mibPerS(layout.ciphertextBytes, plainMs);
			const peak = upload.peak.rss >= download.peak.rss ? upload.peak : download.peak;
			const m = peak.memory;
			rows.push([
				`${sizeMiB} MiB`,
				`${fixed(uploadRate, 1)} MiB/s`,
				`${fixed(plainRate, 1)} MiB/s`,
				fixed(uploadRate / plainRate, 2),
				`${fixed(mibPerS(layout.ciphertextBytes, sinkMs), 1)} MiB/s`,
				`${fixed(mibPerS(layout.ciphertextBytes, download.result), 1)} MiB/s`,
				mib(peak.rss - rssIdle),
				m
					? `${mib(m.heapUsed)} (of ${mib(m.heapTotal)}) / ${mib(m.external)} / ${mib(m.arrayBuffers)}`
					: 'n/a',
				equal ? 'yes' : 'NO',
			]);
		}
		const load = (l: number[]) => l.map((x) => fixed(x, 2)).join(' ');
		console.log(
			`\nfiles: chunks of ${options.chunkKiB} KiB, SDK ${options.concurrency} in flight, plain ` +
				`${best.concurrency} in flight (the probe's fastest), database ${hub.dbKind}; load average ` +
				`${load(loadBefore)} before, ${load(loadavg())} after (2 cores shared: a busy machine makes ` +
				`every figure a floor)\n`,
		);
		console.log(table(rows));
		const m = memoryIdle;
		console.log(
			`\nhub idle, before any file traffic: RSS ${mib(rssIdle)}` +
				(m
					? `, heap ${mib(m.heapUsed)} / external ${mib(m.external)} / arrayBuffers ${mib(m.arrayBuffers)}`
					: ''),
		);
		if (!allEqual) process.exitCode = 1;
		alice.socket.close();
		bob.socket.close();
	} finally {
		await sink.close();
		await hub.close();
		rmSync(sampleDir, { recursive: true, force: true });
	}
}

await main();
