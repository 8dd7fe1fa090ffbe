import { LIMITS, ProtocolError } from '../protocol';
import { isRetryable } from './retry';
import type { DecodedMessage, Messenger } from './messenger';

/**
 * A time-lock takes its place at its unlock time; anything else (a cancelled time-lock too, which
 * never opens) at the hub's storage time, else the send time.
 */
export function orderOf(m: {
	unlockAt: number | null;
	storedAt: number | null;
	sentAt: number;
	state?: string;
}): number {
	if (m.state === 'cancelled') return m.storedAt ?? m.sentAt;
	return m.unlockAt ?? m.storedAt ?? m.sentAt;
}

/**
 * Messages as a conversation shows them: the timeline in place order (`orderOf`), and apart from it
 * our own time-locks still closed at `hubNow`, soonest first. The PWA and the CLI show this order.
 */
export function inTimelineOrder<T extends Pick<DecodedMessage, 'unlockAt' | 'storedAt' | 'sentAt' | 'state'>>(
	messages: T[],
	hubNow: number,
): { timeline: T[]; sealed: T[] } {
	const closed = (m: T) => m.state === 'locked' && m.unlockAt !== null && m.unlockAt > hubNow;
	const byPlace = (a: T, b: T) => orderOf(a) - orderOf(b);
	return {
		timeline: messages.filter((m) => !closed(m)).sort(byPlace),
		sealed: messages.filter(closed).sort(byPlace),
	};
}

/** A read marker from one of this account's own devices, or null for anything else. */
export function readMarkerOf(m: DecodedMessage, me: string): { peer: string; upTo: number } | null {
	if (m.kind !== 'control' || m.control?.type !== 'read') return null;
	// Only our own devices speak for our read state: a "marker" from anyone else is ignored.
	if (m.from !== me || m.to !== me || m.problem !== null) return null;
	if (m.control.peer === me) return null;
	return { peer: m.control.peer, upTo: m.control.upTo };
}

/** Ids of our messages that `m` (a read receipt from the peer) says were read, or null. */
export function readReceiptOf(m: DecodedMessage, me: string): { peer: string; ids: string[] } | null {
	if (m.kind !== 'control' || m.control?.type !== 'read-receipt' || m.problem !== null) return null;
	if (m.to !== me || m.from === me) return null;
	return { peer: m.from, ids: m.control.ids };
}

/** The receipts setting that `m` carries, if it is one from this account's own devices. */
export function receiptsSettingOf(m: DecodedMessage, me: string): { on: boolean; at: number } | null {
	if (m.kind !== 'control' || m.control?.type !== 'receipts-setting' || m.problem !== null) return null;
	if (m.from !== me || m.to !== me) return null;
	return { on: m.control.on, at: m.storedAt };
}

/**
 * How far each conversation is read, from messages in sync order: the newest read marker, or
 * a message we sent there (writing in a conversation means its earlier messages were read).
 */
export function readPoints(messages: DecodedMessage[], me: string): Map<string, number> {
	const points = new Map<string, number>();
	const raise = (peer: string, upTo: number) => points.set(peer, Math.max(points.get(peer) ?? 0, upTo));
	for (const m of messages) {
		const marker = readMarkerOf(m, me);
		if (marker) raise(marker.peer, marker.upTo);
		else if (m.kind === 'text' && m.direction === 'out' && m.peer !== me) raise(m.peer, m.storedAt);
	}
	return points;
}

/** Incoming messages each conversation has after its read point: what a device shows as unread. */
export function unreadCounts(messages: DecodedMessage[], me: string): Map<string, number> {
	const points = readPoints(messages, me);
	const counts = new Map<string, number>();
	const seen = new Set<string>();
	for (const m of messages) {
		if (m.kind !== 'text' || m.direction !== 'in' || m.state === 'cancelled' || seen.has(m.id)) continue;
		seen.add(m.id);
		if (orderOf(m) > (points.get(m.peer) ?? 0)) counts.set(m.peer, (counts.get(m.peer) ?? 0) + 1);
	}
	return counts;
}

export interface ReadSyncOptions {
	/** How long reads gather before they go out: scrolling through a conversation sends one marker. */
	delayMs?: number;
	/** Whether this account's read receipts are on (off unless it says so): only then do peers hear of reads. */
	receipts?: () => boolean;
	onError?(error: unknown): void;
}

/**
 * Read markers (to this account's other devices) and read receipts (to peers), coalesced: every
 * read of a conversation within `delayMs` becomes one marker with the furthest point, and the ids
 * for one peer go in as few receipts as the limit allows. What failed to send stays queued for the
 * next `flush()` (after a reconnect, say).
 */
export class ReadSync {
	readonly #messenger: Messenger;
	readonly #delayMs: number;
	readonly #onError: (error: unknown) => void;
	readonly #receiptsOn: () => boolean;
	readonly #markers = new Map<string, number>();
	readonly #receipts = new Map<string, Set<string>>();
	#timer: ReturnType<typeof setTimeout> | null = null;
	#sending: Promise<void> | null = null;

	constructor(messenger: Messenger, options: ReadSyncOptions = {}) {
		this.#messenger = messenger;
		this.#delayMs = options.delayMs ?? 500;
		this.#onError = options.onError ?? (() => undefined);
		this.#receiptsOn = options.receipts ?? (() => false);
	}

	/** Control envelopes waiting to go: one per conversation marker, one per batch of receipt ids. */
	get pending(): number {
		let n = this.#markers.size;
		for (const ids of this.#receipts.values()) n += Math.ceil(ids.size / LIMITS.readReceiptIdsMax);
		return n;
	}

	/** The conversation with `peer` was read up to `upTo`; `receiptIds` are told to the peer if receipts are on. */
	read(peer: string, upTo: number, receiptIds: Iterable<string> = []): void {
		this.#markers.set(peer, Math.max(this.#markers.get(peer) ?? 0, upTo));
		const ids = this.#receiptsOn() ? [...receiptIds] : [];
		if (ids.length > 0) {
			const queued = this.#receipts.get(peer) ?? new Set<string>();
			for (const id of ids) queued.add(id);
			this.#receipts.set(peer, queued);
		}
		this.#timer ??= setTimeout(() => {
			this.#timer = null;
			void this.flush();
		}, this.#delayMs);
	}

	/** Sends what waits now, if the socket is up; settles when the queue is empty or a send failed. */
	flush(): Promise<void> {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		if (this.#sending) return this.#sending.then(() => this.flush());
		if (this.pending === 0) return Promise.resolve();
		this.#sending = this.#drain().finally(() => {
			this.#sending = null;
		});
		return this.#sending;
	}

	stop(): void {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
	}

	async #drain(): Promise<void> {
		const me = this.#messenger.username;
		for (const [peer, upTo] of [...this.#markers]) {
			if (!this.#messenger.socket.connected) return;
			const sent = await this.#attempt(() => this.#messenger.sendControl(me, { type: 'read', peer, upTo }));
			if (sent === 'again') return this.#retryLater();
			// A later read of the same conversation, queued meanwhile, stays for the next flush.
			if (this.#markers.get(peer) === upTo) this.#markers.delete(peer);
		}
		for (const [peer, queued] of [...this.#receipts]) {
			while (queued.size > 0) {
				if (!this.#messenger.socket.connected) return;
				const ids = [...queued].slice(0, LIMITS.readReceiptIdsMax);
				const sent = await this.#attempt(() =>
					this.#messenger.sendControl(peer, { type: 'read-receipt', ids }),
				);
				if (sent === 'again') return this.#retryLater();
				for (const id of ids) queued.delete(id);
			}
			this.#receipts.delete(peer);
		}
	}

	/**
	 * A send that may succeed later (no answer in time on a busy hub, a fault, too fast) is tried
	 * again after a pause while the socket stays up: otherwise the marker would wait for the next
	 * read or reconnect, and the account's other devices would keep showing the messages unread.
	 */
	#retryLater(): void {
		this.#timer ??= setTimeout(() => {
			this.#timer = null;
			void this.flush();
		}, this.#delayMs * 4);
	}

	/**
	 * One send: 'again' when it may succeed later (no answer, a hub fault, too fast), so the queue
	 * stops here; 'done' when it went, or was refused for good (so it cannot block what follows).
	 */
	async #attempt(send: () => Promise<unknown>): Promise<'done' | 'again'> {
		try {
			await send();
			return 'done';
		} catch (error) {
			this.#onError(error);
			const later = isRetryable(error) || (error instanceof ProtocolError && error.code === 'RATE_LIMITED');
			return later ? 'again' : 'done';
		}
	}
}
