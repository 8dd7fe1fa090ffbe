/**
 * The arithmetic of sign-in throttling, apart from where the counts are kept: growing lockouts
 * after failures, and request budgets over a sliding window.
 */

export interface LockoutPolicy {
	/** Failures within the window that start a lock. */
	failures: number;
	baseMs: number;
	maxMs: number;
	windowMs: number;
}

/**
 * When a key with these failure times may be tried again, or null when it is not locked.
 * The `failures`-th failure locks for baseMs; every later one (each made once the previous lock
 * ended, since a locked key is not tried) locks twice as long as the one before, up to maxMs.
 */
export function lockedUntil(
	failureTimes: readonly number[],
	now: number,
	policy: LockoutPolicy,
): number | null {
	let count = 0;
	let last = -Infinity;
	for (const at of failureTimes) {
		if (at <= now - policy.windowMs) continue;
		count++;
		last = Math.max(last, at);
	}
	if (count < policy.failures) return null;
	const doublings = Math.min(count - policy.failures, 40);
	const until = last + Math.min(policy.maxMs, policy.baseMs * 2 ** doublings);
	return until > now ? until : null;
}

export interface RatePolicy {
	limit: number;
	windowMs: number;
}

/** The fixed window `now` falls in; a sliding count reads this one and the one before. */
export function windowIndex(now: number, windowMs: number): number {
	return Math.floor(now / windowMs);
}

/**
 * Whether one more request passes the limit over the last windowMs, estimated from the counts of
 * the current fixed window and the previous one, the previous weighted by how much of it the
 * sliding window still covers (a burst at the edge of two windows cannot pass twice the limit, as
 * it can with fixed windows). In integers: no rounding lets one too many through or refuses one
 * too soon. `current` counts the request being decided.
 */
export function overLimit(previous: number, current: number, now: number, policy: RatePolicy): boolean {
	const { limit, windowMs } = policy;
	return previous * (windowMs - (now % windowMs)) + current * windowMs > limit * windowMs;
}

/**
 * How long until one more request fits under the limit, given the counts `overLimit` read
 * (the refused request not among them).
 */
export function retryAfterMs(previous: number, current: number, now: number, policy: RatePolicy): number {
	const { limit, windowMs } = policy;
	const intoWindow = now % windowMs;
	// Within this window: the previous window's weight must fall until previous·w + current + 1 ≤ limit.
	if (current + 1 <= limit && previous > 0) {
		const weight = (limit - 1 - current) / previous;
		return Math.max(1, Math.ceil(windowMs * (1 - weight) - intoWindow));
	}
	// In the next window this one is the previous: its weight must fall until current·w + 1 ≤ limit.
	const toNext = windowMs - intoWindow;
	if (current === 0) return toNext;
	const weight = Math.max(0, (limit - 1) / current);
	return Math.ceil(toNext + windowMs * (1 - Math.min(1, weight)));
}
