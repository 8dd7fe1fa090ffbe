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

export interface PhaseResult {
	name: string;
	sent: number;
	delivered: number;
	lost: number;
	duplicates: number;
	refused: number;
	firstRefusal: string | null;
	seconds: number;
	perSecond: number;
	latency: LatencySummary;
}

/**
 * Sends every lane's envelopes, at most `window` unacknowledged per sender, and measures each
 * one from the moment it is emitted to the moment its recipient's `message:new` arrives.
 * Stops when all arrived or at the deadline, whichever comes first.
 */
export async function runPhase(
	name: string,
	lanes: Lane[],
	window: number,
	timeoutMs: number,
): Promise<PhaseResult> {
	const sentAt = new Map<string, number>();
	const latencies: number[] = [];
	const arrived = new Set<string>();
	let duplicates = 0;
	let refused = 0;
	let firstRefusal: string | null = null;
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
		};
		lane.recipient.on(EVENTS.messageNew, listener);
		return () => lane.recipient.off(EVENTS.messageNew, listener);
	});

	const start = performance.now();
	const sending = Promise.all(
		lanes.map(async (lane) => {
			let next = 0;
			const worker = async () => {
				while (next < lane.envelopes.length) {
					const envelope = lane.envelopes[next++];
					sentAt.set(envelope.id, performance.now());
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

	const seconds = ((arrived.size ? lastArrival : performance.now()) - start) / 1000;
	return {
		name,
		sent: expected - refused,
		delivered: arrived.size,
		lost: expected - refused - arrived.size,
		duplicates,
		refused,
		firstRefusal,
		seconds,
		perSecond: arrived.size / seconds,
		latency: summarize(latencies),
	};
}
