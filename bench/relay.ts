/**
 * `npm run bench`: how fast the hub relays signed ciphertext between N client pairs, beside a
 * bare Socket.IO relay (no session, no validation, no signature check, no storage) measured the
 * same way in the same run. Starts its own database and hub on 127.0.0.1, stops by itself.
 *
 *   npm run bench -- [--pairs 20] [--messages 100] [--window 4] [--text 200] [--timeout 120]
 *                    [--mongodb-uri mongodb://…]   (default: an embedded database in a temp dir)
 */
import { parseArgs } from 'node:util';
import type { Envelope } from '../src/lib/protocol';
import { ready, sealEnvelope } from '../src/lib/crypto';
import type { HubSocket } from '../src/lib/sdk';
import { makePairs, startBenchHub, type BenchHub, type Pair } from './lib/harness';
import { startBareRelay, type BareRelay } from './lib/bare-relay';
import { runPhase, type Lane, type PhaseResult } from './lib/load';
import { waitForConnect as connected } from '../tests/helpers/users';
import { fixed, table } from './lib/stats';

const WARMUP_PER_LANE = 3;

interface Options {
	pairs: number;
	messages: number;
	window: number;
	text: number;
	timeoutMs: number;
	mongodbUri: string | undefined;
}

function readOptions(argv: string[]): Options {
	const { values } = parseArgs({
		args: argv,
		options: {
			pairs: { type: 'string', default: '20' },
			messages: { type: 'string', default: '100' },
			window: { type: 'string', default: '4' },
			text: { type: 'string', default: '200' },
			timeout: { type: 'string', default: '120' },
			'mongodb-uri': { type: 'string' },
		},
		strict: true,
	});
	const int = (name: string, text: string, min: number, max: number) => {
		const n = Number(text);
		if (!Number.isInteger(n) || n < min || n > max)
			throw new Error(`--${name} must be an integer from ${min} to ${max}`);
		return n;
	};
	return {
		pairs: int('pairs', values.pairs, 1, 500),
		messages: int('messages', values.messages, 1, 100_000),
		window: int('window', values.window, 1, 1000),
		text: int('text', values.text, 1, 16_000),
		timeoutMs: int('timeout', values.timeout, 5, 3600) * 1000,
		mongodbUri: values['mongodb-uri'],
	};
}

/** Every envelope signed and encrypted before any clock starts. */
function sealAll(pair: Pair, count: number, text: string): Envelope[] {
	return Array.from({ length: count }, () =>
		sealEnvelope(
			{ from: pair.sender.username, to: pair.recipient.username, body: { type: 'text', text } },
			pair.sender.identity,
			pair.recipient.identity.boxPk,
		),
	);
}

function report(
	options: Options,
	dbKind: string,
	envelopeBytes: number,
	hub: PhaseResult,
	bare: PhaseResult,
): string {
	const row = (label: string, r: PhaseResult) => [
		label,
		String(r.sent),
		String(r.delivered),
		String(r.lost),
		String(r.duplicates),
		r.perSecond,
		r.latency.p50,
		r.latency.p99,
		r.latency.max,
	];
	const lines = [
		`Relay bench: ${options.pairs} pairs × ${options.messages} messages, at most ${options.window} unacknowledged per sender,`,
		`${options.text}-character texts (${envelopeBytes}-byte envelopes as JSON). Database: ${dbKind}.`,
		'Clients, hub and bare relay share this one process and 127.0.0.1; latency = send → recipient’s message:new.',
		'',
		table([
			['', 'sent', 'delivered', 'lost', 'dup', 'msgs/s', 'p50 ms', 'p99 ms', 'max ms'],
			row('hub (session, checks, signature, store)', hub),
			row('bare Socket.IO relay', bare),
		]),
		'',
		`hub ÷ bare: throughput ${fixed(hub.perSecond / bare.perSecond)}×, ` +
			`p50 latency ${fixed(hub.latency.p50 / bare.latency.p50)}×, p99 latency ${fixed(hub.latency.p99 / bare.latency.p99)}×`,
	];
	for (const r of [hub, bare]) {
		if (r.refused > 0) lines.push(`${r.name}: ${r.refused} refused, first: ${r.firstRefusal}`);
	}
	return lines.join('\n');
}

async function main(): Promise<number> {
	const options = readOptions(process.argv.slice(2));
	await ready();
	const runId = Date.now().toString(36);
	let bench: BenchHub | null = null;
	let bare: BareRelay | null = null;
	const sockets: HubSocket[] = [];
	const overall = setTimeout(() => {
		process.stderr.write('bench: overall time limit reached, stopping\n');
		process.exit(1);
	}, options.timeoutMs * 3);
	overall.unref();
	try {
		process.stderr.write('bench: starting the database and the hub…\n');
		bench = await startBenchHub('bench', options.mongodbUri);
		const { url } = bench;

		process.stderr.write(`bench: signing up ${options.pairs * 2} users and sealing envelopes…\n`);
		const pairs = await makePairs(url, options.pairs, '', runId);
		for (const p of pairs) sockets.push(p.senderSocket, p.recipientSocket);
		const text = 'x'.repeat(options.text);
		const sealed = pairs.map((pair) => sealAll(pair, WARMUP_PER_LANE + options.messages, text));
		const envelopeBytes = JSON.stringify(sealed[0][0]).length;
		const lanes = (pick: (p: Pair) => [HubSocket, HubSocket], from: number, to: number): Lane[] =>
			pairs.map((pair, i) => {
				const [sender, recipient] = pick(pair);
				return { sender, recipient, envelopes: sealed[i].slice(from, to) };
			});
		const all = WARMUP_PER_LANE + options.messages;
		const hubSockets = (p: Pair): [HubSocket, HubSocket] => [p.senderSocket, p.recipientSocket];

		process.stderr.write('bench: hub…\n');
		await runPhase('hub warm-up', lanes(hubSockets, 0, WARMUP_PER_LANE), options.window, options.timeoutMs);
		const hubResult = await runPhase(
			'hub',
			lanes(hubSockets, WARMUP_PER_LANE, all),
			options.window,
			options.timeoutMs,
		);

		process.stderr.write('bench: bare relay…\n');
		const relay = await startBareRelay();
		bare = relay;
		const bareSockets = new Map<Pair, [HubSocket, HubSocket]>();
		for (const p of pairs) {
			const sender = await connected(relay.connect(p.sender.username));
			const recipient = await connected(relay.connect(p.recipient.username));
			sockets.push(sender, recipient);
			bareSockets.set(p, [sender, recipient]);
		}
		const bareFor = (p: Pair) => bareSockets.get(p)!;
		await runPhase('bare warm-up', lanes(bareFor, 0, WARMUP_PER_LANE), options.window, options.timeoutMs);
		const bareResult = await runPhase(
			'bare',
			lanes(bareFor, WARMUP_PER_LANE, all),
			options.window,
			options.timeoutMs,
		);

		process.stdout.write(`${report(options, bench.dbKind, envelopeBytes, hubResult, bareResult)}\n`);
		return hubResult.lost + bareResult.lost + hubResult.refused + bareResult.refused === 0 ? 0 : 1;
	} finally {
		for (const socket of sockets) socket.disconnect();
		await bare?.close();
		await bench?.close();
		clearTimeout(overall);
	}
}

process.exitCode = await main();
