/**
 * `npx tsx bench/timelock.ts`: how punctually the hub releases time-locked messages, beside how
 * fast it relays the same number of messages live, in one run. Starts its own database and hub
 * on 127.0.0.1 and stops them; bounded in time.
 *
 * Time-lock phase: N envelopes, sealed and stored before the window opens, unlock spread evenly
 * over a window of W seconds; every recipient is connected. Lateness = the recipient's
 * `message:new` minus the envelope's unlockAt (same machine, same clock), and the hub's own
 * releasedAt minus unlockAt. Live phase: N fresh envelopes without a lock through the same hub.
 *
 *   npx tsx bench/timelock.ts [--messages 10000] [--window 10] [--pairs 10] [--in-flight 8]
 *                             [--timeout 600] [--mongodb-uri mongodb://…]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Store } from '../server/store';
import { ready, sealEnvelope } from '../src/lib/crypto';
import { EVENTS, type Envelope, type StoredEnvelope } from '../src/lib/protocol';
import { call, type HubSocket } from '../src/lib/sdk';
import { makePairs, startBenchHubProcess, type BenchHubProcess, type Pair } from './lib/harness';
import { runPhase, type Lane, type PhaseResult } from './lib/load';
import { fixed, summarize, table, type LatencySummary } from './lib/stats';

const TEXT = 'a time-locked message of ordinary length, sealed until its date';

interface Options {
	messages: number;
	windowMs: number;
	pairs: number;
	inFlight: number;
	timeoutMs: number;
	mongodbUri: string | undefined;
}

function readOptions(argv: string[]): Options {
	const { values } = parseArgs({
		args: argv,
		options: {
			messages: { type: 'string', default: '10000' },
			window: { type: 'string', default: '10' },
			pairs: { type: 'string', default: '10' },
			'in-flight': { type: 'string', default: '8' },
			timeout: { type: 'string', default: '600' },
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
		messages: int('messages', values.messages, 1, 100_000),
		windowMs: int('window', values.window, 0, 3600) * 1000,
		pairs: int('pairs', values.pairs, 1, 200),
		inFlight: int('in-flight', values['in-flight'], 1, 256),
		timeoutMs: int('timeout', values.timeout, 10, 3600) * 1000,
		mongodbUri: values['mongodb-uri'],
	};
}

/** Message i goes through pair i mod P; unlockAt(i) gives its unlock date (or null). */
function sealMany(pairs: Pair[], count: number, unlockAt: (i: number) => number | null): Envelope[][] {
	const perPair: Envelope[][] = pairs.map(() => []);
	for (let i = 0; i < count; i++) {
		const pair = pairs[i % pairs.length];
		const at = unlockAt(i);
		perPair[i % pairs.length].push(
			sealEnvelope(
				{
					from: pair.sender.username,
					to: pair.recipient.username,
					unlockAt: at,
					announce: false,
					body: { type: 'text', text: TEXT },
				},
				pair.sender.identity,
				pair.recipient.identity.boxPk,
			),
		);
	}
	return perPair;
}

/** Sends each pair's envelopes, `inFlight` unacknowledged at a time per sender; returns the refusals. */
async function store(
	pairs: Pair[],
	envelopes: Envelope[][],
	inFlight: number,
): Promise<{ id: string; reason: string }[]> {
	const refusals: { id: string; reason: string }[] = [];
	await Promise.all(
		pairs.map(async (pair, p) => {
			let next = 0;
			const worker = async () => {
				while (next < envelopes[p].length) {
					const envelope = envelopes[p][next++];
					try {
						const result = await call(pair.senderSocket, EVENTS.send, envelope, 60_000);
						if (result.state !== 'locked')
							refusals.push({ id: envelope.id, reason: `stored ${result.state}` });
					} catch (error) {
						refusals.push({ id: envelope.id, reason: (error as Error).message });
					}
				}
			};
			await Promise.all(Array.from({ length: inFlight }, worker));
		}),
	);
	return refusals;
}

interface TimelockResult {
	stored: number;
	refused: number;
	firstRefusal: string | null;
	delivered: number;
	/** Never arrived and no longer locked on the hub. */
	lost: number;
	/** Still locked on the hub at the deadline: late, not lost. */
	stillLocked: number;
	duplicates: number;
	early: number;
	/** Recipient's arrival minus unlockAt, ms. */
	lateness: LatencySummary;
	/** Hub's releasedAt minus unlockAt, ms. */
	hubLateness: LatencySummary;
	/** Releases per second from the first unlock to the last arrival. */
	perSecond: number;
	storeSeconds: number;
	leadSeconds: number;
}

async function runTimelockPhase(database: Store, pairs: Pair[], options: Options): Promise<TimelockResult> {
	const n = options.messages;
	// Calibrate: how long sealing and storing take here, to open the window just after all are stored.
	const probeCount = Math.min(200, n);
	let t = performance.now();
	const probe = sealMany(pairs, probeCount, () => Date.now() + 86_400_000);
	const sealMsEach = (performance.now() - t) / probeCount;
	t = performance.now();
	await store(pairs, probe, options.inFlight);
	const storeMsEach = (performance.now() - t) / probeCount;
	const leadMs = Math.ceil(n * (sealMsEach + storeMsEach * 1.5) + 5_000);
	const opensAt = Date.now() + leadMs;
	const unlockAt = (i: number) => opensAt + Math.floor((i * options.windowMs) / n);
	process.stderr.write(
		`bench: sealing and storing ${n} time-locked envelopes; the window opens in ${fixed(leadMs / 1000)} s…\n`,
	);

	const expected = new Map<string, number>();
	const arrivals = new Map<string, { at: number; envelope: StoredEnvelope }[]>();
	let lastArrival = 0;
	let allArrived: () => void = () => {};
	const done = new Promise<void>((resolve) => (allArrived = resolve));
	const listeners = pairs.map((pair) => {
		const listener = (envelope: StoredEnvelope) => {
			const at = Date.now();
			if (!expected.has(envelope.id)) return;
			const list = arrivals.get(envelope.id) ?? [];
			list.push({ at, envelope });
			arrivals.set(envelope.id, list);
			lastArrival = at;
			if (arrivals.size === expected.size) allArrived();
		};
		pair.recipientSocket.on(EVENTS.messageNew, listener);
		return () => pair.recipientSocket.off(EVENTS.messageNew, listener);
	});

	const sealed = sealMany(pairs, n, unlockAt);
	for (const list of sealed) for (const e of list) expected.set(e.id, e.unlockAt ?? 0);
	t = performance.now();
	const refusals = await store(pairs, sealed, options.inFlight);
	const storeSeconds = (performance.now() - t) / 1000;
	const leadSeconds = (opensAt - Date.now()) / 1000;
	if (leadSeconds < 0) {
		process.stderr.write(`bench: storing overran the window's opening by ${fixed(-leadSeconds)} s\n`);
	}
	for (const refusal of refusals) expected.delete(refusal.id);

	let timer: NodeJS.Timeout | undefined;
	const deadline = new Promise<void>((resolve) => {
		timer = setTimeout(resolve, Math.max(0, opensAt + options.windowMs + options.timeoutMs - Date.now()));
	});
	if (arrivals.size < expected.size) await Promise.race([done, deadline]);
	clearTimeout(timer);
	for (const remove of listeners) remove();

	const lateness: number[] = [];
	const hubLateness: number[] = [];
	let duplicates = 0;
	let early = 0;
	for (const [id, list] of arrivals) {
		const due = expected.get(id) ?? 0;
		duplicates += list.length - 1;
		const first = list[0];
		if (first.at < due || (first.envelope.releasedAt ?? 0) < due) early += 1;
		lateness.push(first.at - due);
		hubLateness.push((first.envelope.releasedAt ?? Number.NaN) - due);
	}
	const delivered = arrivals.size;
	const stored = n - refusals.length;
	const missing = [...expected.keys()].filter((id) => !arrivals.has(id));
	// Still locked: a locked copy and no decision yet (late, not lost).
	const { envelopes } = database;
	const withCopy = new Set((await envelopes.lockedMany(missing)).map((e) => e.id));
	const decided = new Set((await envelopes.settledMany(missing)).map((e) => e.id));
	const stillLocked = missing.filter((id) => withCopy.has(id) && !decided.has(id)).length;
	return {
		stored,
		refused: refusals.length,
		firstRefusal: refusals[0]?.reason ?? null,
		delivered,
		lost: missing.length - stillLocked,
		stillLocked,
		duplicates,
		early,
		lateness: summarize(lateness),
		hubLateness: summarize(hubLateness),
		perSecond: delivered / Math.max(0.001, (lastArrival - opensAt) / 1000),
		storeSeconds,
		leadSeconds,
	};
}

function report(
	options: Options,
	dbKind: string,
	locked: TimelockResult,
	live: PhaseResult,
	cleanupSeconds: number,
): string {
	const ms = (s: LatencySummary) => [fixed(s.p50), fixed(s.p99), fixed(s.max)];
	const lines = [
		`Time-lock bench: ${options.messages} messages over ${options.pairs} sender→recipient pairs, recipients connected.`,
		`Database: ${dbKind}. The hub runs in a process of its own (server/main.ts), the clients in this one, on 127.0.0.1.`,
		`Time-locked: unlocks spread evenly over ${options.windowMs / 1000} s (offered ${fixed(
			options.messages / Math.max(1, options.windowMs / 1000),
		)}/s); stored in ${fixed(locked.storeSeconds)} s, ${fixed(Math.max(0, locked.leadSeconds))} s before the window opened.`,
		'',
		table([
			['', 'stored', 'delivered', 'lost', 'dup', 'early', 'msgs/s', 'p50 ms', 'p99 ms', 'max ms'],
			[
				'time-locked: arrival − unlockAt',
				String(locked.stored),
				String(locked.delivered),
				String(locked.lost),
				String(locked.duplicates),
				String(locked.early),
				fixed(locked.perSecond),
				...ms(locked.lateness),
			],
			['time-locked: hub releasedAt − unlockAt', '', '', '', '', '', '', ...ms(locked.hubLateness)],
			[
				'live (no lock): send → arrival',
				String(live.sent),
				String(live.delivered),
				String(live.lost),
				String(live.duplicates),
				'',
				fixed(live.perSecond),
				fixed(live.latency.p50),
				fixed(live.latency.p99),
				fixed(live.latency.max),
			],
		]),
		'',
		`release rate ÷ live rate: ${fixed(locked.perSecond / live.perSecond)} ` +
			`(goals: p99 lateness < 100 ms, ratio ≥ 0.5, nothing lost or duplicated)`,
	];
	lines.push(
		'time-locked: releasedAt is stamped as a release batch starts, before its insert; arrival includes the insert.',
	);
	lines.push(
		`time-locked: the hub removed the released envelopes' locked copies ${fixed(cleanupSeconds)} s after the last arrival (off the release path)`,
	);
	if (locked.stillLocked > 0) {
		lines.push(`time-locked: ${locked.stillLocked} still locked on the hub at the deadline (late, not lost)`);
	}
	if (locked.refused > 0) lines.push(`time-locked: ${locked.refused} refused, first: ${locked.firstRefusal}`);
	if (live.refused > 0) lines.push(`live: ${live.refused} refused, first: ${live.firstRefusal}`);
	return lines.join('\n');
}

async function main(): Promise<number> {
	const options = readOptions(process.argv.slice(2));
	await ready();
	const runId = Date.now().toString(36);
	let bench: BenchHubProcess | null = null;
	const sockets: HubSocket[] = [];
	const overall = setTimeout(() => {
		process.stderr.write('bench: overall time limit reached, stopping\n');
		process.exit(1);
	}, options.timeoutMs * 4);
	overall.unref();
	try {
		process.stderr.write('bench: starting the database and the hub…\n');
		bench = await startBenchHubProcess('bench-timelock', options.mongodbUri);
		const { store: database, url } = bench;
		process.stderr.write(`bench: signing up ${options.pairs * 2} users…\n`);
		const pairs = await makePairs(url, options.pairs, 't', runId);
		for (const p of pairs) sockets.push(p.senderSocket, p.recipientSocket);

		const locked = await runTimelockPhase(database, pairs, options);
		// The hub removes released envelopes' locked copies once it is quiet: let it, so the live
		// phase is measured on a hub that is not still busy with the time-lock phase.
		process.stderr.write('bench: waiting for the hub to remove the released locked copies…\n');
		const cleanupStarted = performance.now();
		const deadline = Date.now() + options.timeoutMs;
		while (
			// Due by now: every envelope of the phase (the calibration probe's unlock a day ahead).
			(await database.envelopes.lockedDueBy(Date.now(), 1)).length > 0 &&
			Date.now() < deadline
		) {
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		const cleanupSeconds = (performance.now() - cleanupStarted) / 1000;

		process.stderr.write(`bench: relaying ${options.messages} messages live…\n`);
		const liveEnvelopes = sealMany(pairs, options.messages, () => null);
		const lanes: Lane[] = pairs.map((p, i) => ({
			sender: p.senderSocket,
			recipient: p.recipientSocket,
			envelopes: liveEnvelopes[i],
		}));
		const live = await runPhase('live', lanes, options.inFlight, options.timeoutMs);

		process.stdout.write(`${report(options, bench.dbKind, locked, live, cleanupSeconds)}\n`);
		const faults =
			locked.lost +
			locked.stillLocked +
			locked.duplicates +
			locked.early +
			locked.refused +
			live.lost +
			live.refused;
		return faults === 0 ? 0 : 1;
	} finally {
		for (const socket of sockets) socket.disconnect();
		await bench?.close();
		clearTimeout(overall);
	}
}

process.exitCode = await main();
