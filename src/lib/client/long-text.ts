// Text longer than one message holds: measured as the hub measures it, and never cut without asking.
import { LIMITS } from '../protocol';

/** From this share of the limit on, the counter warns (and tells screen readers once). */
export const NEAR_LIMIT = 0.9;

export type LengthState = 'ok' | 'near' | 'over';

/** Where a text of `length` characters (UTF-16 units, as the protocol counts) stands against the limit. */
export function lengthState(length: number, max: number = LIMITS.textMaxChars): LengthState {
	if (length > max) return 'over';
	return length >= Math.ceil(max * NEAR_LIMIT) ? 'near' : 'ok';
}

/** The field's text once `pasted` replaces the selection `[start, end)`: what a paste would leave there. */
export function afterPaste(current: string, start: number, end: number, pasted: string): string {
	return current.slice(0, start) + pasted + current.slice(end);
}

/** A name for text sent as a file, from the hub time it is sent at: `message-2026-12-02-0423.txt`. */
export function textFileName(at: number): string {
	const d = new Date(at);
	const two = (n: number) => String(n).padStart(2, '0');
	return `message-${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}-${two(d.getUTCHours())}${two(d.getUTCMinutes())}.txt`;
}
