import { LIMITS } from '../protocol';
import type { Messenger } from './messenger';

/**
 * Delivery receipts, sent without holding up what comes next: ids queue here and go out in as few
 * `message:received` calls as possible, one call at a time. Ids whose call failed stay queued and
 * go with the next call or the next `flush()` (after a reconnect), so no receipt is dropped.
 */
export class Receipts {
	readonly #messenger: Messenger;
	readonly #onError: (error: unknown) => void;
	readonly #queued = new Set<string>();
	#sending: Promise<void> | null = null;

	constructor(messenger: Messenger, onError: (error: unknown) => void = () => undefined) {
		this.#messenger = messenger;
		this.#onError = onError;
	}

	/** Ids not yet acknowledged by the hub. */
	get pending(): number {
		return this.#queued.size;
	}

	/** Queues receipts for these ids and starts sending; the promise settles when the queue is empty or stuck. */
	add(ids: Iterable<string>): Promise<void> {
		for (const id of ids) this.#queued.add(id);
		return this.flush();
	}

	/** Sends what waits, if the socket is up. */
	flush(): Promise<void> {
		if (this.#sending) return this.#sending;
		if (this.#queued.size === 0) return Promise.resolve();
		this.#sending = this.#drain().finally(() => {
			this.#sending = null;
		});
		return this.#sending;
	}

	async #drain(): Promise<void> {
		while (this.#queued.size > 0 && this.#messenger.socket.connected) {
			const ids = [...this.#queued].slice(0, LIMITS.receiptIdsMax);
			try {
				await this.#messenger.receipt(ids);
			} catch (error) {
				this.#onError(error);
				return;
			}
			for (const id of ids) this.#queued.delete(id);
		}
	}
}
