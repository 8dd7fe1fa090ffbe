/**
 * `npm run bench:fairness`: does one user filling the hub slow another? A flooder stores
 * `--flood` envelopes for a recipient who is offline, as fast as the quotas let it (they are raised
 * above the flood so it happens), while another user sends to a peer who receipts and syncs as the
 * PWA does. Prints the other user's send and sync latency before, during and after the flood,
 * measured in the same run. The hub runs in its own process over its own database.
 *
 *   npm run bench:fairness -- [--flood 10000] [--window 32] [--samples 200] [--interval 20]
 *                             [--rate 200] [--mongodb-uri mongodb://…]
 *
 * `--rate` is the flooder's send rate limit (the hub's default is 20/s; 200/s stores 10,000 in 50 s).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ready, sealEnvelope } from '../src/lib/crypto';
import { EVENTS, ProtocolError, type Envelope, type SyncResult } from '../src/lib/protocol';
import { call } from '../src/lib/sdk';
import { makePairs, startBenchHubProcess, type Pair } from './lib/harness';
import { summarize, table, type LatencySummary } from './lib/stats';
import { integerOption } from './lib/options';

interface Options {
	flood: number;
	window: number;
	samples: number;
	intervalMs: number;
	rate: number;
	mongodbUri: string | undefined;
}

function readOptions(argv: string[]): Options {
	const { values } = parseArgs({
		args: argv,
		options: {
			flood: { type: 'string', default: '10000' },
			window: { type: 'string', default: '32' },
			samples: { type: 'string', default: '200' },
			interval: { type: 'string', default: '20' },
			rate: { type: 'string', default: '200' },
			'mongodb-uri': { type: 'string' },
		},
		strict: true,
	});
	return {
		flood: integerOption('flood', values.flood, 1, 1_000_000),
		window: integerOption('window', values.window, 1, 1000),
		samples: integerOption('samples', values.samples, 10, 100_000),
		intervalMs: integerOption('interval', values.interval, 0, 10_000),
		rate: integerOption('rate', values.rate, 1, 1_000_000),
		mongodbUri: values['mongodb-uri'],
	};
}

function seal(pair: Pair, text: string): Envelope {
	return sealEnvelope(
		{ from: pair.sender.username, to: pair.recipient.username, body: { type: 'text', text } },
		pair.sender.identity,
		pair.recipient.identity.boxPk,
	);
}

/** Long enough for a slow answer to be measured rather than lost; a probe past it counts as failed. */
const PROBE_TIMEOUT_MS = 30_000;
/** Probe pairs signed up before the clocks start: the warm-up's, the row before the flood's, and a few for the flood. */
const PROBE_PAIRS_AHEAD = 6;

interface Probe {
	send: LatencySummary;
	sync: LatencySummary;
	failed: number;
}

/**
 * The other user at work: every `intervalMs`, one send (timed to its ack) and one sync of the
 * peer from its cursor (timed to its reply); the peer receipts what it receives, like the PWA.
 * Runs `samples` rounds, or while `stopWhen` says not to stop when it is given. Every `samples`
 * rounds the probe moves to the next pair of `others`, which has no history yet: on the embedded
 * engine a sync's cost grows with the user's own history, so without this the rows during and
 * after a long flood would carry more of it than the row before, and the flood's effect would not
 * be told apart from it.
 */
async function probe(others: Pairs, options: Options, stopWhen?: () => boolean): Promise<Probe> {
	const sends: number[] = [];
	const syncs: number[] = [];
	let failed = 0;
	let cursor: string | null = null;
	let other = await others.next();
	const timed = async <T>(samples: number[], work: () => Promise<T>): Promise<T | null> => {
		const start = performance.now();
		try {
			return await work();
		} catch {
			failed++;
			return null;
		} finally {
			samples.push(performance.now() - start);
		}
	};
	for (let i = 0; stopWhen ? !stopWhen() : i < options.samples; i++) {
		if (i > 0 && i % options.samples === 0) {
			other = await others.next();
			cursor = null;
		}
		const envelope = seal(other, `probe ${i}`);
		await timed(sends, () => call(other.senderSocket, EVENTS.send, envelope, PROBE_TIMEOUT_MS));
		const page: SyncResult | null = await timed(syncs, () =>
			call(other.recipientSocket, EVENTS.sync, { after: cursor, limit: 200 }, PROBE_TIMEOUT_MS),
		);
		if (page) {
			cursor = page.cursor;
			const mine = page.envelopes.filter((e) => e.to === other.recipient.username).map((e) => e.id);
			if (mine.length > 0) await call(other.recipientSocket, EVENTS.receipt, { ids: mine }, PROBE_TIMEOUT_MS);
		}
		if (options.intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
	}
	return { send: summarize(sends), sync: summarize(syncs), failed };
}

/** Fresh probe pairs: a few signed up ahead, more on demand (between timed calls, never inside one). */
class Pairs {
	readonly #ready: Pair[];
	readonly all: Pair[] = [];
	#made = 0;
	constructor(
		private readonly url: string,
		private readonly runId: string,
		ahead: Pair[],
	) {
		this.#ready = [...ahead];
	}
	async next(): Promise<Pair> {
		const [pair] = this.#ready.length > 0 ? this.#ready.splice(0, 1) : await this.#signUp();
		this.all.push(pair);
		return pair;
	}
	#signUp(): Promise<Pair[]> {
		return makePairs(this.url, 1, `fairp${this.#made++}`, this.runId);
	}
}

interface FloodResult {
	stored: number;
	rateRefusals: number;
	otherRefusals: string[];
	seconds: number;
}

/** Sends every envelope, `window` at a time; a RATE_LIMITED send waits a little and is sent again. */
async function flood(flooder: Pair, envelopes: Envelope[], window: number): Promise<FloodResult> {
	let next = 0;
	let stored = 0;
	let rateRefusals = 0;
	const otherRefusals: string[] = [];
	const start = performance.now();
	const worker = async () => {
		while (next < envelopes.length) {
			const envelope = envelopes[next++];
			for (;;) {
				try {
					await call(flooder.senderSocket, EVENTS.send, envelope);
					stored++;
					break;
				} catch (error) {
					if (error instanceof ProtocolError && error.code === 'RATE_LIMITED') {
						rateRefusals++;
						await new Promise((resolve) => setTimeout(resolve, 20));
						continue;
					}
					otherRefusals.push((error as Error).message);
					break;
				}
			}
		}
	};
	await Promise.all(Array.from({ length: window }, worker));
	return { stored, rateRefusals, otherRefusals, seconds: (performance.now() - start) / 1000 };
}

async function main(): Promise<void> {
	const options = readOptions(process.argv.slice(2));
	await ready();
	const bench = await startBenchHubProcess('fairness', options.mongodbUri, {
		env: {
			// Raised above the flood, so the flood happens; the rate still paces it.
			QUOTA_UNDELIVERED_PER_RECIPIENT: String(options.flood * 2),
			SEND_RATE_PER_SECOND: String(options.rate),
			SEND_BURST: String(options.rate),
		},
	});
	try {
		const runId = Date.now().toString(36);
		const [flooder, ...ahead] = await makePairs(bench.url, PROBE_PAIRS_AHEAD + 1, 'fair', runId);
		const others = new Pairs(bench.url, runId, ahead);
		// The flood's recipient is offline: everything it is sent waits on the hub.
		flooder.recipientSocket.close();
		const envelopes = Array.from({ length: options.flood }, (_, i) => seal(flooder, `flood ${i}`));

		await probe(others, { ...options, samples: 20 });
		const before = await probe(others, options);
		let flooding = true;
		const [during, floodResult] = await Promise.all([
			probe(others, options, () => !flooding),
			flood(flooder, envelopes, options.window).finally(() => (flooding = false)),
		]);
		const after = await probe(others, options);

		const row = (label: string, p: Probe) => [
			label,
			String(p.send.count),
			p.send.p50,
			p.send.p99,
			p.sync.p50,
			p.sync.p99,
			String(p.failed),
		];
		console.log(
			[
				`Database: ${bench.dbKind}. The hub runs in a process of its own (server/main.ts), the clients in this one, on 127.0.0.1.`,
				`Flood: ${floodResult.stored} of ${options.flood} envelopes stored for an offline recipient in ${floodResult.seconds.toFixed(1)} s ` +
					`(${(floodResult.stored / floodResult.seconds).toFixed(0)}/s, send rate limit ${options.rate}/s, window ${options.window}), ` +
					`${floodResult.rateRefusals} RATE_LIMITED answers, ${floodResult.otherRefusals.length} other refusals` +
					(floodResult.otherRefusals[0] ? ` (first: ${floodResult.otherRefusals[0]})` : '') +
					'.',
				`The other user: one send and one sync every ${options.intervalMs} ms; latency in ms; failed: no answer within ${PROBE_TIMEOUT_MS / 1000} s.`,
				`Each ${options.samples} rounds are a fresh pair of users (${others.all.length} in all), so every row carries the same own history.`,
				'',
				table([
					['other user', 'rounds', 'send p50', 'send p99', 'sync p50', 'sync p99', 'failed'],
					row('before the flood', before),
					row('during the flood', during),
					row('after (flood stored)', after),
				]),
			].join('\n'),
		);
		for (const pair of others.all)
			for (const socket of [pair.senderSocket, pair.recipientSocket]) socket.close();
		flooder.senderSocket.close();
	} finally {
		await bench.close();
	}
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
