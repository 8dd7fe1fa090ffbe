/**
 * `npx tsx bench/timelock.ts`: how punctually the hub releases time-locked messages, beside how
 * fast it relays the same number of messages live, in one run. Starts its own database and hub
 * on 127.0.0.1 and stops them; bounded in time.
 *
 * Each scenario has a database of its own, first filled with S other envelopes (most delivered,
 * a tenth locked a month ahead), as a hub that has been in use holds. Time-lock phase: N
 * envelopes, sealed and stored before the window opens, unlock spread evenly over a window of W
 * seconds; every recipient is connected. Lateness = the recipient's `message:new` minus the
 * envelope's unlockAt (same machine, same clock), and the hub's own releasedAt minus unlockAt.
 * Live phase: N fresh envelopes without a lock through the same hubs, the baseline. Recipients
 * acknowledge every message they receive with a receipt, as the PWA does, in both phases.
 *
 * Scenarios: `single`, one hub; `kill`, three hubs with Redis, every lock stored through the
 * first, which is killed (SIGKILL) one second before the window opens; recipients are on the
 * other two.
 *
 *   npx tsx bench/timelock.ts [--scenario both|single|kill] [--messages 10000] [--window 10]
 *                             [--stored 100000] [--pairs 10] [--in-flight 8] [--timeout 600]
 *                             [--mongodb-uri mongodb://…]
 *                             [--profile DIR]   (each hub that stops normally writes a CPU profile there)
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Store } from '../server/store';
import { newMessageId, ready, sealEnvelope } from '../src/lib/crypto';
import { EVENTS, syncKeyOf, type Envelope, type StoredEnvelope } from '../src/lib/protocol';
import { call, connectHub, type HubSocket } from '../src/lib/sdk';
import {
	commandsPerMessage,
	databaseCommands,
	metricValue,
	makePairs,
	startBenchCluster,
	streamLagBetween,
	streamLagBuckets,
	type BenchCluster,
	type Pair,
} from './lib/harness';
import { waitForConnect } from '../tests/helpers/users';
import { runPhase, type Lane, type PhaseResult } from './lib/load';
import { fixed, summarize, table, type LatencySummary } from './lib/stats';
import { integerOption } from './lib/options';

const TEXT = 'a time-locked message of ordinary length, sealed until its date';

type Scenario = 'single' | 'kill';

interface Options {
	scenarios: Scenario[];
	messages: number;
	stored: number;
	windowMs: number;
	pairs: number;
	inFlight: number;
	timeoutMs: number;
	mongodbUri: string | undefined;
	profileDir: string | undefined;
}

function readOptions(argv: string[]): Options {
	const { values } = parseArgs({
		args: argv,
		options: {
			scenario: { type: 'string', default: 'both' },
			messages: { type: 'string', default: '10000' },
			stored: { type: 'string', default: '100000' },
			window: { type: 'string', default: '10' },
			pairs: { type: 'string', default: '10' },
			'in-flight': { type: 'string', default: '8' },
			timeout: { type: 'string', default: '600' },
			'mongodb-uri': { type: 'string' },
			profile: { type: 'string' },
		},
		strict: true,
	});
	const scenarios: Record<string, Scenario[]> = {
		both: ['single', 'kill'],
		single: ['single'],
		kill: ['kill'],
	};
	if (!scenarios[values.scenario]) throw new Error('--scenario must be both, single or kill');
	return {
		scenarios: scenarios[values.scenario],
		messages: integerOption('messages', values.messages, 1, 100_000),
		stored: integerOption('stored', values.stored, 0, 2_000_000),
		windowMs: integerOption('window', values.window, 0, 3600) * 1000,
		pairs: integerOption('pairs', values.pairs, 1, 200),
		inFlight: integerOption('in-flight', values['in-flight'], 1, 256),
		timeoutMs: integerOption('timeout', values.timeout, 10, 3600) * 1000,
		mongodbUri: values['mongodb-uri'],
		profileDir: values.profile,
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
	/** Receipts (one per arrival, as the PWA acknowledges what it receives) refused or unanswered. */
	receiptFailures: number;
}

async function runTimelockPhase(
	database: Store,
	pairs: Pair[],
	options: Options,
	beforeWindow: (opensAt: number) => Promise<void> = async () => {},
): Promise<TimelockResult> {
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
	const receipts: Promise<void>[] = [];
	let receiptFailures = 0;
	const listeners = pairs.map((pair) => {
		const listener = (envelope: StoredEnvelope) => {
			const at = Date.now();
			if (!expected.has(envelope.id)) return;
			receipts.push(
				call(pair.recipientSocket, EVENTS.receipt, { ids: [envelope.id] }, options.timeoutMs).then(
					() => undefined,
					() => void receiptFailures++,
				),
			);
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
	await beforeWindow(opensAt);

	let timer: NodeJS.Timeout | undefined;
	const deadline = new Promise<void>((resolve) => {
		timer = setTimeout(resolve, Math.max(0, opensAt + options.windowMs + options.timeoutMs - Date.now()));
	});
	if (arrivals.size < expected.size) await Promise.race([done, deadline]);
	clearTimeout(timer);
	for (const remove of listeners) remove();
	await Promise.all(receipts);

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
		receiptFailures,
	};
}

/** Other users' envelopes already stored: most delivered, a tenth locked a month ahead. */
async function prefill(database: Store, count: number): Promise<number> {
	const started = performance.now();
	const users = Array.from({ length: 1_000 }, (_, i) => `filler${i}`);
	const now = Date.now();
	const ciphertext = randomBytes(150).toString('base64url');
	let next = 0;
	const worker = async () => {
		while (next < count) {
			const i = next++;
			const id = newMessageId();
			const locked = i % 10 === 9;
			await database.envelopes.insert({
				v: 1,
				id,
				from: users[i % users.length],
				to: users[(i * 7 + 1) % users.length],
				sentAt: now,
				unlockAt: locked ? now + 30 * 86_400_000 : null,
				announce: false,
				kind: 'text',
				nonce: randomBytes(24).toString('base64url'),
				ciphertext,
				signature: randomBytes(64).toString('base64url'),
				state: locked ? 'locked' : 'live',
				storedAt: now,
				releasedAt: null,
				syncKey: syncKeyOf(now, id),
			});
		}
	};
	await Promise.all(Array.from({ length: 32 }, worker));
	return (performance.now() - started) / 1000;
}

interface ScenarioResult {
	scenario: Scenario;
	dbKind: string;
	hubs: number;
	prefillSeconds: number;
	locked: TimelockResult;
	live: PhaseResult;
	/** Database commands per release on the hubs that stayed up, as printed. */
	releaseCommands: string;
	/** The same per time-locked send, while they were stored (one hub only). */
	storeCommands: string | null;
	/** Database commands per live message on the same hubs, receipts included. */
	liveCommands: string;
	/** How far behind the Redis stream the surviving hubs read: window, live phase (several hubs only). */
	streamLag: { window: string; live: string } | null;
	/**
	 * Per surviving hub (several hubs only): how many times it logged "hub gone" (once, for the
	 * killed hub, is right; more means it counted a live hub out), and its releases lost to
	 * another hub's claim (work done twice).
	 */
	peers: { countedOut: number; claimsLost: number }[] | null;
}

async function runScenario(scenario: Scenario, options: Options, runId: string): Promise<ScenarioResult> {
	const hubCount = scenario === 'kill' ? 3 : 1;
	const sockets: HubSocket[] = [];
	let cluster: BenchCluster | null = null;
	try {
		process.stderr.write(`bench (${scenario}): starting the database and ${hubCount} hub(s)…\n`);
		const nodeArgs = options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', options.profileDir] : [];
		cluster = await startBenchCluster(`bench-timelock-${scenario}`, options.mongodbUri, hubCount, {
			nodeArgs,
		});
		const { store: database, hubs } = cluster;
		process.stderr.write(`bench (${scenario}): storing ${options.stored} other envelopes first…\n`);
		const prefillSeconds = await prefill(database, options.stored);
		process.stderr.write(`bench (${scenario}): signing up ${options.pairs * 2} users…\n`);
		// Senders on the first hub (the one killed in `kill`), recipients on the others.
		const recipientUrls = hubs.length > 1 ? hubs.slice(1).map((h) => h.url) : [hubs[0].url];
		const pairs = await makePairs(hubs[0].url, options.pairs, `${scenario[0]}`, runId, recipientUrls);
		for (const p of pairs) sockets.push(p.senderSocket, p.recipientSocket);

		const killFirst = async (opensAt: number) => {
			if (scenario !== 'kill') return;
			await new Promise((resolve) => setTimeout(resolve, Math.max(0, opensAt - 1_000 - Date.now())));
			await hubs[0].kill('SIGKILL');
			process.stderr.write(
				`bench (${scenario}): killed the hub that stored every lock, ${opensAt - Date.now()} ms before the window\n`,
			);
		};
		// The hubs alive to the end (in `kill`, the two that take over): their database commands per release.
		const survivors = scenario === 'kill' ? hubs.slice(1) : hubs;
		const commandsOf = async () => {
			const total = new Map<string, number>();
			for (const hub of survivors) {
				for (const [key, n] of await databaseCommands(hub.url)) total.set(key, (total.get(key) ?? 0) + n);
			}
			return total;
		};
		const lagOf = () => streamLagBuckets(survivors.map((hub) => hub.url));
		const clustered = survivors.length > 1;
		const commandsBefore = await commandsOf();
		let commandsStored = commandsBefore;
		let lagAtWindow = new Map<number, number>();
		const locked = await runTimelockPhase(database, pairs, options, async (opensAt) => {
			commandsStored = await commandsOf();
			if (clustered) lagAtWindow = await lagOf();
			await killFirst(opensAt);
		});
		const commandsReleased = await commandsOf();
		const lagReleased = clustered ? await lagOf() : new Map<number, number>();
		const releaseCommands = commandsPerMessage(
			commandsStored,
			commandsReleased,
			Math.max(1, locked.delivered),
		);
		const storeCommands =
			scenario === 'kill'
				? null
				: commandsPerMessage(commandsBefore, commandsStored, Math.max(1, locked.stored));

		// The senders come back on a hub that is alive for the live baseline.
		const liveHub = hubs[hubs.length - 1];
		const senders =
			scenario === 'kill'
				? await Promise.all(
						pairs.map((p) => waitForConnect(connectHub(liveHub.url, { cookie: p.senderCookie }))),
					)
				: pairs.map((p) => p.senderSocket);
		sockets.push(...senders);
		process.stderr.write(`bench (${scenario}): relaying ${options.messages} messages live…\n`);
		const liveEnvelopes = sealMany(pairs, options.messages, () => null);
		const lanes: Lane[] = pairs.map((p, i) => ({
			sender: senders[i],
			recipient: p.recipientSocket,
			envelopes: liveEnvelopes[i],
		}));
		const live = await runPhase('live', lanes, options.inFlight, options.timeoutMs, { receipts: true });
		const liveCommands = commandsPerMessage(
			commandsReleased,
			await commandsOf(),
			Math.max(1, live.delivered),
		);
		const streamLag = clustered
			? {
					window: streamLagBetween(lagAtWindow, lagReleased),
					live: streamLagBetween(lagReleased, await lagOf()),
				}
			: null;
		const peers = clustered
			? await Promise.all(
					survivors.map(async (hub) => ({
						countedOut: hub.output().match(/"msg":"hub gone/g)?.length ?? 0,
						claimsLost: await metricValue(hub.url, 'hourglass_timelock_claims_lost_total'),
					})),
				)
			: null;
		return {
			scenario,
			dbKind: cluster.dbKind,
			hubs: hubCount,
			prefillSeconds,
			locked,
			live,
			releaseCommands,
			storeCommands,
			liveCommands,
			streamLag,
			peers,
		};
	} finally {
		for (const socket of sockets) socket.disconnect();
		await cluster?.close();
	}
}

function report(options: Options, result: ScenarioResult): string {
	const { locked, live } = result;
	const ms = (s: LatencySummary) => [fixed(s.p50), fixed(s.p99), fixed(s.max)];
	const setting =
		result.scenario === 'kill'
			? 'Three hubs with Redis, each in a process of its own (server/main.ts); every lock stored through the first, killed 1 s before the window; recipients on the other two.'
			: 'One hub in a process of its own (server/main.ts).';
	const lines = [
		`Time-lock bench, scenario ${result.scenario}: ${options.messages} messages over ${options.pairs} sender→recipient pairs, recipients connected.`,
		`Database: ${result.dbKind}, holding ${options.stored} other envelopes first (stored in ${fixed(result.prefillSeconds)} s). ${setting} Clients in this process, on 127.0.0.1.`,
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
			`(goals: p99 lateness < 100 ms, ratio ≥ 0.5, nothing lost, duplicated or early)`,
		'time-locked: releasedAt is stamped as a release batch starts, before its insert; arrival includes the insert.',
		`time-locked: database commands per release, ${result.scenario === 'kill' ? 'surviving hubs' : 'the hub'}, from the window's opening (receipts included): ${result.releaseCommands}`,
		`live: database commands per message, the same hubs (receipts included): ${result.liveCommands}`,
	];
	if (result.streamLag) {
		lines.push(
			`Redis stream lag (Redis's time of a push → the hub reading it), surviving hubs: ` +
				`from the window's opening: ${result.streamLag.window}; live phase: ${result.streamLag.live}`,
		);
	}
	if (result.peers) {
		const each = result.peers.map((p) => `${p.countedOut} "hub gone", ${p.claimsLost} claims lost`);
		lines.push(`surviving hubs (each should count the killed hub out once): ${each.join('; ')}`);
	}
	if (result.storeCommands)
		lines.push(`time-locked: database commands per locked send while storing: ${result.storeCommands}`);
	if (locked.receiptFailures + live.receiptFailures > 0) {
		lines.push(`receipts failed: ${locked.receiptFailures} time-locked, ${live.receiptFailures} live`);
	}
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
	const overall = setTimeout(() => {
		process.stderr.write('bench: overall time limit reached, stopping\n');
		process.exit(1);
	}, options.timeoutMs * 4);
	overall.unref();
	let faults = 0;
	try {
		for (const scenario of options.scenarios) {
			const result = await runScenario(scenario, options, runId);
			process.stdout.write(`${report(options, result)}\n\n`);
			const { locked, live } = result;
			faults +=
				locked.lost +
				locked.stillLocked +
				locked.duplicates +
				locked.early +
				locked.refused +
				locked.receiptFailures +
				live.lost +
				live.refused +
				live.receiptFailures;
		}
		return faults === 0 ? 0 : 1;
	} finally {
		clearTimeout(overall);
	}
}

process.exitCode = await main();
