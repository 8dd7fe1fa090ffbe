// Due slots: how locked copies are read by time on every engine (see DUE_SLOT_MS).

/**
 * The width of a due slot. A locked copy carries its unlock time in whole slots (`dueSlot`), so
 * the scheduler reads what falls due next by equality, a slot at a time, instead of a range over
 * every lock: MongoDB answers either from an index, but the embedded engine sends only equalities
 * to its backend and decodes every document of a range in its own code (it made each refill read
 * all the locks waiting, months ahead included, every 20 s on every hub). As wide as the
 * scheduler's window, so a refill reads one or two slots.
 */
export const DUE_SLOT_MS = 60_000;

/** The due slot of an unlock time. */
export function dueSlotOf(unlockAt: number): number {
	return Math.floor(unlockAt / DUE_SLOT_MS);
}
