// Where messages sit in a conversation, and whether a time-lock is still closed.
import type { MessageRow } from './db';

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

/** A time-lock takes its place at its unlock time; anything else at the hub's storage time. */
export function orderOf(m: { unlockAt: number | null; storedAt: number | null; sentAt: number }): number {
	return m.unlockAt ?? m.storedAt ?? m.sentAt;
}
