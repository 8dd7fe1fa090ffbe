/** Width of the time part of a syncKey: 15 digits hold any epoch-ms date up to the year 33658. */
const SYNC_TIME_DIGITS = 15;

/**
 * A position in the sync order (`SyncResult.cursor`, `StoredEnvelope.syncKey`): the hub time,
 * zero-padded so that text order is time order, a dash, then the envelope id.
 */
export function syncKeyOf(at: number, id: string): string {
	return `${String(at).padStart(SYNC_TIME_DIGITS, '0')}-${id}`;
}

/** The hub time inside a syncKey, or 0 for a key that does not start with one. */
export function syncKeyTime(key: string | null): number {
	if (!key) return 0;
	const digits = /^(\d{15})-/.exec(key);
	return digits ? Number(digits[1]) : 0;
}

/**
 * A cursor as (time, id). The floor of a time (`NNNNNNNNNNNNNNN-`, no id) is (time, ''), which every
 * id at that time follows, as in text order. Null for a cursor that is not a syncKey.
 */
export function parseSyncKey(key: string): { at: number; id: string } | null {
	const parts = /^(\d{15})(?:-(.*))?$/s.exec(key);
	return parts ? { at: Number(parts[1]), id: parts[2] ?? '' } : null;
}

/** The cursor just before every key of hub time `at` (times before the epoch read as 0). */
export function syncKeyFloor(at: number): string {
	return syncKeyOf(Math.max(0, at), '');
}
