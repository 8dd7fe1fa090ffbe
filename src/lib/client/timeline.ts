// Where messages sit in a conversation, and whether a time-lock is still closed.
import type { MessageRow } from './db';

/** Rows a conversation opens with, and how many more each step up or down shows. */
export const WINDOW_PAGE = 50;
/** Most rows on screen at once, however long the history: beyond it the window slides. */
export const WINDOW_MAX = 200;

/**
 * Whether a time-lock is still closed. A received message is open by definition (the hub released
 * it); the sender's own copy is closed until the hub's clock passes the unlock time.
 */
export function isStillLocked(
	m: Pick<MessageRow, 'status' | 'direction' | 'unlockAt' | 'releasedAt'>,
	hubNow: number,
): boolean {
	if (m.status === 'sealed') return true;
	if (m.direction === 'in' || m.unlockAt === null || m.releasedAt !== null || m.status === 'cancelled')
		return false;
	return m.unlockAt > hubNow;
}

/**
 * Whether `isStillLocked` depends on the clock: the sender's own time-lock before the hub released
 * it. Views read the ticking clock only for these, so other rows never re-render as it ticks.
 */
export function canUnlock(m: Pick<MessageRow, 'status' | 'direction' | 'unlockAt' | 'releasedAt'>): boolean {
	return (
		m.status !== 'sealed' &&
		m.direction === 'out' &&
		m.unlockAt !== null &&
		m.releasedAt === null &&
		m.status !== 'cancelled'
	);
}

/**
 * Whether a row shows apart from the timeline, in the sealed section: a time-lock still closed,
 * unless the hub refused it (that one stays in the timeline with the hub's reason).
 */
export function isSealedApart(
	m: Pick<MessageRow, 'status' | 'direction' | 'unlockAt' | 'releasedAt'>,
	hubNow: number,
): boolean {
	return m.status !== 'failed' && isStillLocked(m, hubNow);
}

/**
 * Whether a row can be a conversation's preview: anything the timeline shows (a message, a timer
 * line), not an announced placeholder or our own time-lock while closed (they say nothing yet).
 */
export function isPreviewable(
	m: Pick<MessageRow, 'status' | 'direction' | 'unlockAt' | 'releasedAt'>,
	hubNow: number,
): boolean {
	return !isStillLocked(m, hubNow);
}

// Read markers carry places in this order, so the SDK (and the CLI) must compute it alike.
export { inTimelineOrder, orderOf } from '../sdk/readstate';
