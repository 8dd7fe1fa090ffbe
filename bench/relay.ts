/**
 * `npm run bench`: how fast the hub relays signed ciphertext between N client pairs, beside a
 * bare Socket.IO relay (no session, no validation, no signature check, no storage) measured the
 * same way in the same run. The clients behave as the PWA does: a `sync:pull` on every connect and
 * a `message:received` for every message received. The hub (server/main.ts, its own database) and
 * the bare relay each run in a process of their own on 127.0.0.1; the bench stops by itself.
 *
 * Each side is measured at full rate (as fast as the window allows), then both paced at half the
 * bare relay's full rate, where latency is what a user feels below saturation.
 *
 *   npm run bench -- [--pairs 20] [--messages 100] [--window 4] [--text 200] [--timeout 120]
 *                    [--mongodb-uri mongodb://…]   (default: an embedded database in a temp dir)
 *                    [--profile DIR]               (the hub writes a CPU profile there on exit)
 *                    [--hub-node-args='--max-semi-space-size=16']  (V8 flags for the hub, after its own)
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Envelope } from '../src/lib/protocol';
import { ready, sealEnvelope } from '../src/lib/crypto';
import type { HubSocket } from '../src/lib/sdk';
import { connectBare } from './lib/bare-relay';
import {
	commandsPerMessage,
	databaseCommands,
	makePairs,
	startBareRelayProcess,
	startBenchHubProcess,
	type BenchHubProcess,
	type Pair,
	type HubProcess,
} from './lib/harness';
import { HUB_NODE_FLAGS } from '../tests/helpers/hub';
import { waitForConnect } from '../tests/helpers/users';
import { runPhase, syncOnConnect, type Lane, type PhaseResult } from './lib/load';
import { fixed, table } from './lib/stats';
import { integerOption, nodeArgsOption } from './lib/options';

const WARMUP_PER_LANE = 3;

interface Options {
	pairs: number;
	messages: number;
	window: number;
	text: number;
	timeoutMs: number;
	mongodbUri: string | undefined;
	profileDir: string | undefined;
	hubNodeArgs: string[];
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
			profile: { type: 'string' },
			'hub-node-args': { type: 'string', default: '' },
		},
		strict: true,
	});
	return {
		pairs: integerOption('pairs', values.pairs, 1, 500),
		messages: integerOption('messages', values.messages, 1, 100_000),
		window: integerOption('window', values.window, 1, 1000),
		text: integerOption('text', values.text, 1, 16_000),
		timeoutMs: integerOption('timeout', values.timeout, 5, 3600) * 1000,
		mongodbUri: values['mongodb-uri'],
		profileDir: values.profile,
		hubNodeArgs: nodeArgsOption(values['hub-node-args']),
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

interface Results {
	hub: PhaseResult;
	bare: PhaseResult;
	hubHalf: PhaseResult;
	bareHalf: PhaseResult;
	halfRate: number;
}

function report(options: Options, dbKind: string, envelopeBytes: number, r: Results): string {
	const row = (label: string, p: PhaseResult) => [
		label,
		String(p.sent),
		String(p.delivered),
		String(p.lost),
		String(p.duplicates),
		String(p.receiptFailures),
		p.perSecond,
		p.latency.p50,
		p.latency.p99,
		p.latency.max,
	];
	const lines = [
		`Relay bench: ${options.pairs} pairs × ${options.messages} messages per phase, at most ${options.window} unacknowledged per sender,`,
		`${options.text}-character texts (${envelopeBytes}-byte envelopes as JSON). Database: ${dbKind}.`,
		'Clients as the PWA: a sync on connect, a receipt per message received. Hub and bare relay each in its own',
		'process on 127.0.0.1, clients in this one; latency = send → recipient’s message:new.',
		`Hub's Node flags: ${[...HUB_NODE_FLAGS, ...options.hubNodeArgs].join(' ')}. Load average at the end: ${loadavg()
			.map((n) => n.toFixed(2))
			.join(' ')}.`,
		'',
		table([
			['', 'sent', 'delivered', 'lost', 'dup', 'receipt err', 'msgs/s', 'p50 ms', 'p99 ms', 'max ms'],
			row('hub, full rate', r.hub),
			row('bare Socket.IO relay, full rate', r.bare),
			row(`hub at ${fixed(r.halfRate)}/s (half bare)`, r.hubHalf),
			row(`bare at ${fixed(r.halfRate)}/s`, r.bareHalf),
		]),
		'',
		`hub ÷ bare at full rate: throughput ${fixed(r.hub.perSecond / r.bare.perSecond)}× (goal ≥ 0.5), ` +
			`p99 latency ${fixed(r.hub.latency.p99 / r.bare.latency.p99)}×`,
		`at half the bare relay's rate: hub p50 ${fixed(r.hubHalf.latency.p50)} ms, p99 ${fixed(r.hubHalf.latency.p99)} ms (goal ≤ 50)`,
	];
	for (const p of [r.hub, r.bare, r.hubHalf, r.bareHalf]) {
		if (p.refused > 0) lines.push(`${p.name}: ${p.refused} refused, first: ${p.firstRefusal}`);
	}
	return lines.join('\n');
}

async function main(): Promise<number> {
	const options = readOptions(process.argv.slice(2));
	await ready();
	const runId = Date.now().toString(36);
	let bench: BenchHubProcess | null = null;
	let bare: HubProcess | null = null;
	const sockets: HubSocket[] = [];
	const overall = setTimeout(() => {
		process.stderr.write('bench: overall time limit reached, stopping\n');
		process.exit(1);
	}, options.timeoutMs * 5);
	overall.unref();
	try {
		process.stderr.write('bench: starting the database, the hub and the bare relay…\n');
		const nodeArgs = [
			...options.hubNodeArgs,
			...(options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', options.profileDir] : []),
		];
		[bench, bare] = await Promise.all([
			startBenchHubProcess('bench', options.mongodbUri, { nodeArgs }),
			startBareRelayProcess(),
		]);

		process.stderr.write(`bench: signing up ${options.pairs * 2} users and sealing envelopes…\n`);
		const pairs = await makePairs(bench.url, options.pairs, '', runId);
		for (const p of pairs) sockets.push(p.senderSocket, p.recipientSocket);
		const text = 'x'.repeat(options.text);
		// Warm-up, the full-rate phase, then the paced one: the hub stores each envelope once.
		const perLane = WARMUP_PER_LANE + 2 * options.messages;
		const sealed = pairs.map((pair) => sealAll(pair, perLane, text));
		const envelopeBytes = JSON.stringify(sealed[0][0]).length;
		const lanes = (pick: (p: Pair) => [HubSocket, HubSocket], from: number, to: number): Lane[] =>
			pairs.map((pair, i) => {
				const [sender, recipient] = pick(pair);
				return { sender, recipient, envelopes: sealed[i].slice(from, to) };
			});
		const full = [WARMUP_PER_LANE, WARMUP_PER_LANE + options.messages] as const;
		const paced = [WARMUP_PER_LANE + options.messages, perLane] as const;
		const hubSockets = (p: Pair): [HubSocket, HubSocket] => [p.senderSocket, p.recipientSocket];

		const bareSockets = new Map<Pair, [HubSocket, HubSocket]>();
		for (const p of pairs) {
			const sender = await waitForConnect(connectBare(bare.url, p.sender.username));
			const recipient = await waitForConnect(connectBare(bare.url, p.recipient.username));
			await Promise.all([syncOnConnect(sender), syncOnConnect(recipient)]);
			sockets.push(sender, recipient);
			bareSockets.set(p, [sender, recipient]);
		}
		const bareFor = (p: Pair) => bareSockets.get(p)!;
		const asPwa = { receipts: true };
		const { window, timeoutMs } = options;

		process.stderr.write('bench: bare relay, full rate…\n');
		await runPhase('bare warm-up', lanes(bareFor, 0, WARMUP_PER_LANE), window, timeoutMs, asPwa);
		const bareResult = await runPhase('bare', lanes(bareFor, ...full), window, timeoutMs, asPwa);
		process.stderr.write('bench: hub, full rate…\n');
		await runPhase('hub warm-up', lanes(hubSockets, 0, WARMUP_PER_LANE), window, timeoutMs, asPwa);
		const commandsBefore = await databaseCommands(bench.url);
		const hubResult = await runPhase('hub', lanes(hubSockets, ...full), window, timeoutMs, asPwa);
		const commands = commandsPerMessage(commandsBefore, await databaseCommands(bench.url), hubResult.sent);
		const halfRate = bareResult.perSecond / 2;
		const halfOptions = { ...asPwa, ratePerSecond: halfRate };
		process.stderr.write(`bench: both at ${fixed(halfRate)} msg/s…\n`);
		const hubHalf = await runPhase(
			'hub, half rate',
			lanes(hubSockets, ...paced),
			window,
			timeoutMs,
			halfOptions,
		);
		const bareHalf = await runPhase(
			'bare, half rate',
			lanes(bareFor, ...paced),
			window,
			timeoutMs,
			halfOptions,
		);

		const results = { hub: hubResult, bare: bareResult, hubHalf, bareHalf, halfRate };
		process.stdout.write(`${report(options, bench.dbKind, envelopeBytes, results)}\n`);
		process.stdout.write(`hub's database commands per message at full rate (send + receipt): ${commands}\n`);
		const phases = [hubResult, bareResult, hubHalf, bareHalf];
		return phases.every((p) => p.lost + p.refused + p.duplicates + p.receiptFailures === 0) ? 0 : 1;
	} finally {
		for (const socket of sockets) socket.disconnect();
		await bare?.kill();
		await bench?.close();
		clearTimeout(overall);
	}
}

process.exitCode = await main();
