import { ProtocolError } from '../protocol';

/** How long to wait between tries: doubling from `baseMs`, never above `maxMs`. */
export interface Backoff {
	baseMs: number;
	maxMs: number;
}

/** A sync after a reconnect: quick at first, then no more than one try every 30 s. */
export const SYNC_BACKOFF: Backoff = { baseMs: 500, maxMs: 30_000 };

/**
 * The wait before try number `attempt + 1` (attempt 0 is the first retry): "full jitter", a random
 * moment up to the doubled, capped delay, so devices that failed together do not retry together.
 */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
	const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(attempt, 30));
	return Math.round(random() * ceiling);
}

/**
 * Whether a failed sync is worth trying again as it is: no answer in time or a hub that could not
 * reach its database (UNAVAILABLE), or a fault on the hub (INTERNAL). A refusal is final.
 */
export function isRetryable(error: unknown): boolean {
	return error instanceof ProtocolError && (error.code === 'UNAVAILABLE' || error.code === 'INTERNAL');
}
