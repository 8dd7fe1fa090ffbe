import { performance } from 'node:perf_hooks';
import { EVENTS, type Envelope } from '../../src/lib/protocol';
import { call, type HubSocket } from '../../src/lib/sdk';
import { summarize, type LatencySummary } from './stats';

/** One sender and its recipient, each on its own connection, with the envelopes to send. */
export interface Lane {
	sender: HubSocket;
	recipient: HubSocket;
	envelopes: Envelope[];
}

/** How the clients behave beyond sending: as the PWA does, and how fast. */
export interface PhaseOptions {
	/** A `message:received` for every message received, as the PWA sends one per live message. */
	receipts?: boolean;
	/** Messages per second over all lanes (each lane an equal share); unset: as fast as the window allows. */
	ratePerSecond?: number;
}

export interface PhaseResult {
	name: string;
	sent: number;
	delivered: number;
	lost: number;
	duplicates: number;
	refused: number;
	firstRefusal: string | null;
	/** Receipts the hub refused or did not answer (0 when receipts are off). */
	receiptFailures: number;
	seconds: number;
	perSecond: number;
	latency: LatencySummary;
}

/**
 * Sends every lane's envelopes, at most `window` unacknowledged per sender, and measures each
 * one from the moment it is emitted to the moment its recipient's `message:new` arrives.
 * Stops when all arrived or at the deadline, whichever comes first. With a rate, each envelope
 * waits for its scheduled time and is measured from it, so a late start counts as latency.
 */
export async function runPhase(
	name: string,
	lanes: Lane[],
	window: number,
	timeoutMs: number,
	options: PhaseOptions = {},
): Promise<PhaseResult> {
	const sentAt = new Map<string, number>();
	const latencies: number[] = [];
	const arrived = new Set<string>();
	let duplicates = 0;
	let refused = 0;
	let firstRefusal: string | null = null;
	let receiptFailures = 0;
	const receipts: Promise<void>[] = [];
	const expected = lanes.reduce((n, lane) => n + lane.envelopes.length, 0);
	let lastArrival = 0;
	let allArrived: () => void = () => {};
	const done = new Promise<void>((resolve) => (allArrived = resolve));

	const listeners = lanes.map((lane) => {
		const listener = (stored: { id: string }) => {
			const start = sentAt.get(stored.id);
			if (start === undefined) return;
			if (arrived.has(stored.id)) {
				duplicates++;
				return;
			}
			lastArrival = performance.now();
			arrived.add(stored.id);
			latencies.push(lastArrival - start);
			if (arrived.size === expected - refused) allArrived();
			if (options.receipts) {
				receipts.push(
					call(lane.recipient, EVENTS.receipt, { ids: [stored.id] }, timeoutMs).then(
						() => undefined,
						() => void receiptFailures++,
					),
				);
			}
		};
		lane.recipient.on(EVENTS.messageNew, listener);
		return () => lane.recipient.off(EVENTS.messageNew, listener);
	});

	const start = performance.now();
	const laneInterval = options.ratePerSecond ? (1000 * lanes.length) / options.ratePerSecond : 0;
	const sending = Promise.all(
		lanes.map(async (lane, laneIndex) => {
			let next = 0;
			// Lanes start staggered so a paced load is spread evenly, not in bursts of one per lane.
			const offset = (laneInterval * laneIndex) / lanes.length;
			const worker = async () => {
				while (next < lane.envelopes.length) {
					const index = next++;
					const envelope = lane.envelopes[index];
					let at = performance.now();
					if (laneInterval > 0) {
						const due = start + offset + index * laneInterval;
						if (due > at) await sleep(due - at);
						at = Math.min(due, performance.now());
					}
					sentAt.set(envelope.id, at);
					try {
						await call(lane.sender, EVENTS.send, envelope, timeoutMs);
					} catch (error) {
						refused++;
						firstRefusal ??= (error as Error).message;
						sentAt.delete(envelope.id);
						if (arrived.size === expected - refused) allArrived();
					}
				}
			};
			await Promise.all(Array.from({ length: window }, worker));
		}),
	);
	let timer: NodeJS.Timeout | undefined;
	const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
	await Promise.race([Promise.all([sending, done]), deadline]);
	clearTimeout(timer);
	for (const remove of listeners) remove();
	await Promise.all(receipts);

	const seconds = ((arrived.size ? lastArrival : performance.now()) - start) / 1000;
	return {
		name,
		sent: expected - refused,
		delivered: arrived.size,
		lost: expected - refused - arrived.size,
		duplicates,
		refused,
		firstRefusal,
		receiptFailures,
		seconds,
		perSecond: arrived.size / seconds,
		latency: summarize(latencies),
	};
}

/**
 * As the PWA does: a `sync:pull` from the start at once (the socket is connected) and on every
 * reconnect. Resolves after the first pull; a later one that fails is left to the next reconnect.
 */
export async function syncOnConnect(socket: HubSocket, timeoutMs = 10_000): Promise<void> {
	socket.on('connect', () => {
		call(socket, EVENTS.sync, { after: null }, timeoutMs).catch(() => undefined);
	});
	await call(socket, EVENTS.sync, { after: null }, timeoutMs);
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
