/** What the sections of bench/pwa.ts share: the run's hub and browser, sending, and the report's rows. */
import type { Browser } from 'playwright-core';
import type { Envelope, MessageStatus } from '../../src/lib/protocol';
import type { HubSocket, Messenger } from '../../src/lib/sdk';
import { DESKTOP, openPerson, uniqueName, type Person } from '../../tests/e2e/support';
import { epochNow, probesScript } from './page';
import { fixed } from '../lib/stats';

export interface PwaEnv {
	url: string;
	browser: Browser;
	/** Longest wait for any one outcome (a burst shown, a sync done). */
	timeoutMs: number;
}

/** Sends at most this many envelopes unacknowledged: as fast as the hub accepts them. */
const SEND_WINDOW = 16;

export interface SendRun {
	startedAt: number;
	/** When the last send's ack came (epoch ms). */
	lastAckAt: number;
	refused: number;
	firstRefusal: string | null;
}

/**
 * Sends every envelope but the last with at most `SEND_WINDOW` unacknowledged, then the last one
 * alone once the others are acknowledged, so it is the newest message and its ack the last one.
 */
export async function sendAll(
	messenger: Messenger,
	envelopes: Envelope[],
	timeoutMs: number,
): Promise<SendRun> {
	const run: SendRun = { startedAt: epochNow(), lastAckAt: 0, refused: 0, firstRefusal: null };
	const send = async (envelope: Envelope) => {
		try {
			await messenger.sendEnvelope(envelope, timeoutMs);
		} catch (error) {
			run.refused++;
			run.firstRefusal ??= (error as Error).message;
		}
		run.lastAckAt = epochNow();
	};
	const head = envelopes.slice(0, -1);
	let next = 0;
	const worker = async () => {
		while (next < head.length) await send(head[next++]);
	};
	await Promise.all(Array.from({ length: SEND_WINDOW }, worker));
	await send(envelopes[envelopes.length - 1]);
	return run;
}

/** Seals `count` texts for `peer` before any clock starts. */
export async function sealMany(messenger: Messenger, peer: string, count: number): Promise<Envelope[]> {
	const envelopes: Envelope[] = [];
	for (let i = 0; i < count; i++) {
		envelopes.push(await messenger.seal(peer, `Message ${i + 1} of ${count}: ${'lorem ipsum '.repeat(6)}`));
	}
	return envelopes;
}

/** The `message:status` (delivered) events a sender sees for `ids`. */
export function watchStatuses(socket: HubSocket, ids: string[]) {
	const wanted = new Set(ids);
	const seen = new Set<string>();
	let lastAt = 0;
	let resolveAll: () => void = () => {};
	const all = new Promise<void>((resolve) => (resolveAll = resolve));
	const listener = (status: MessageStatus) => {
		if (!wanted.has(status.id) || seen.has(status.id)) return;
		seen.add(status.id);
		lastAt = epochNow();
		if (seen.size === wanted.size) resolveAll();
	};
	socket.on('message:status', listener);
	return {
		get count() {
			return seen.size;
		},
		get lastAt() {
			return lastAt;
		},
		/** Resolves true when all arrived, false after `timeoutMs`. */
		async wait(timeoutMs: number): Promise<boolean> {
			let timer: NodeJS.Timeout | undefined;
			const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
			const outcome = await Promise.race([all.then(() => true), late]);
			clearTimeout(timer);
			return outcome;
		},
		stop() {
			socket.off('message:status', listener);
		},
	};
}

/** A person in a fresh browser context (desktop size) with the bench's probes in every document. */
export async function newPerson(env: PwaEnv, base: string, name = uniqueName(base)): Promise<Person> {
	const person = await openPerson(env.browser, env.url, name, DESKTOP);
	await person.context.addInitScript({ content: probesScript() });
	return person;
}

/** One line of a section's table. `met` is null when there is no goal or no figure to judge. */
export interface Row {
	figure: string;
	measured: string;
	baseline: string;
	goal: string;
	met: boolean | null;
}

export function ms(value: number | null, timedOutAfterMs?: number): string {
	if (value === null)
		return timedOutAfterMs === undefined ? '–' : `timed out after ${fixed(timedOutAfterMs / 1000)} s`;
	return `${fixed(value)} ms`;
}

/** A duration in ms below a second, else in seconds. */
export function duration(value: number | null, timedOutAfterMs?: number): string {
	if (value === null || Math.abs(value) < 1000) return ms(value, timedOutAfterMs);
	return `${fixed(value / 1000)} s`;
}

export function mb(bytes: number): string {
	return `${fixed(bytes / 2 ** 20)} MB`;
}

export function median(values: number[]): number {
	if (values.length === 0) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** What a page reported as errors, for the report's notes (the first few). */
export function pageErrors(person: Person): string[] {
	return person.errors.slice(0, 3).map((e) => `${person.name}: ${e.slice(0, 200)}`);
}
