import type { StoredEnvelope, SyncHint } from '../protocol';
import type { DecodedMessage, Messenger } from './messenger';
import { backoffDelay, isRetryable, SYNC_BACKOFF, type Backoff } from './retry';

/** Ids remembered to drop duplicates: delivery is at-least-once, mostly within moments. */
const SEEN_MAX = 10_000;

export interface ReceiverOptions {
	/** Where this device's last sync ended, or null for everything the hub still holds. */
	cursor?: string | null;
	/** Messages this device did not have yet, once each (live or from a sync page), in arrival order. */
	onMessages(messages: DecodedMessage[]): void | Promise<void>;
	/** A sync failed for good: a refusal, not a timeout or a hub fault (those are retried). */
	onError?(error: unknown): void;
	/** A sync failed and will be tried again after `delayMs`. */
	onRetry?(info: { attempt: number; delayMs: number; error: unknown }): void;
	/** How long one sync page may take before it counts as failed (and is retried). */
	syncTimeoutMs?: number;
	backoff?: Backoff;
	random?: () => number;
}

/**
 * What a device receives, without gaps or repeats: live pushes, a sync on every (re)connect and
 * whenever the hub asks (`sync:hint`), a failed sync retried with capped, jittered backoff until
 * it succeeds or the socket drops (the next connect syncs again), and duplicates dropped by id.
 */
export class Receiver {
	readonly #messenger: Messenger;
	readonly #options: ReceiverOptions;
	readonly #seen = new Set<string>();
	#cursor: string | null;
	#queue: Promise<void> = Promise.resolve();
	#syncing: Promise<void> | null = null;
	#again = false;
	#hintTimer: ReturnType<typeof setTimeout> | null = null;
	#wake: (() => void) | null = null;
	#retrying: unknown = null;
	#started = false;

	constructor(messenger: Messenger, options: ReceiverOptions) {
		this.#messenger = messenger;
		this.#options = options;
		this.#cursor = options.cursor ?? null;
	}

	/** The newest sync cursor this device holds (store it to resume after a restart). */
	get cursor(): string | null {
		return this.#cursor;
	}

	/** The last failure of a sync that is being retried; null once a sync succeeded. */
	get retrying(): unknown {
		return this.#retrying;
	}

	/** Listens on the messenger's socket and syncs now if it is connected. */
	start(): void {
		if (this.#started) return;
		this.#started = true;
		const socket = this.#messenger.socket;
		socket.on('connect', this.#onConnect);
		socket.on('disconnect', this.#onDisconnect);
		socket.on('message:new', this.#onLive);
		socket.on('sync:hint', this.#onHint);
		if (socket.connected) void this.sync();
	}

	stop(): void {
		if (!this.#started) return;
		this.#started = false;
		const socket = this.#messenger.socket;
		socket.off('connect', this.#onConnect);
		socket.off('disconnect', this.#onDisconnect);
		socket.off('message:new', this.#onLive);
		socket.off('sync:hint', this.#onHint);
		if (this.#hintTimer) clearTimeout(this.#hintTimer);
		this.#hintTimer = null;
		this.#wake?.();
	}

	/**
	 * Pulls everything after the cursor (retrying as above). A call while a sync runs makes one
	 * more run after it, since what prompted it may be newer than what that sync reads.
	 */
	sync(): Promise<void> {
		if (this.#syncing) {
			this.#again = true;
			return this.#syncing;
		}
		this.#syncing = (async () => {
			try {
				do {
					this.#again = false;
					await this.#syncRetrying();
				} while (this.#again && this.#started);
			} finally {
				this.#syncing = null;
			}
		})();
		return this.#syncing;
	}

	async #syncRetrying(): Promise<void> {
		for (let attempt = 0; this.#started; attempt++) {
			try {
				await this.#messenger.syncAll(this.#cursor, (page) => this.#ingest(page.messages, page.cursor), {
					timeoutMs: this.#options.syncTimeoutMs,
				});
				this.#retrying = null;
				return;
			} catch (error) {
				if (!isRetryable(error)) {
					this.#retrying = null;
					this.#options.onError?.(error);
					return;
				}
				// Offline: the next connect syncs from the cursor anyway.
				if (!this.#messenger.socket.connected) return;
				this.#retrying = error;
				const delayMs = backoffDelay(attempt, this.#options.backoff ?? SYNC_BACKOFF, this.#options.random);
				this.#options.onRetry?.({ attempt: attempt + 1, delayMs, error });
				await this.#pause(delayMs);
				if (!this.#messenger.socket.connected) return;
			}
		}
	}

	/** Waits `ms`, or less if the receiver stops or the socket drops. */
	#pause(ms: number): Promise<void> {
		return new Promise((resolve) => {
			const done = () => {
				clearTimeout(timer);
				this.#wake = null;
				resolve();
			};
			const timer = setTimeout(done, ms);
			this.#wake = done;
		});
	}

	/** One ingest at a time, so a live push and a sync page holding the same id yield it once. */
	#ingest(messages: DecodedMessage[], cursor: string | null = null): Promise<void> {
		const run = this.#queue.then(async () => {
			const fresh = messages.filter((m) => !this.#seen.has(m.id));
			if (fresh.length > 0) await this.#options.onMessages(fresh);
			for (const m of fresh) this.#remember(m.id);
			if (cursor && (this.#cursor === null || cursor > this.#cursor)) this.#cursor = cursor;
		});
		this.#queue = run.catch(() => undefined);
		return run;
	}

	#remember(id: string): void {
		this.#seen.add(id);
		if (this.#seen.size > SEEN_MAX) {
			const oldest = this.#seen.values().next().value;
			if (oldest !== undefined) this.#seen.delete(oldest);
		}
	}

	#onConnect = () => {
		void this.sync();
	};

	#onDisconnect = () => {
		this.#wake?.();
	};

	#onLive = (envelope: StoredEnvelope) => {
		if (this.#seen.has(envelope.id)) return;
		void (async () => {
			try {
				await this.#ingest([await this.#messenger.open(envelope)]);
			} catch (error) {
				this.#options.onError?.(error);
			}
		})();
	};

	// Several hubs may hint at once (each one whose Redis link came back): one sync serves them all.
	#onHint = (hint: SyncHint) => {
		if (this.#hintTimer) return;
		const random = this.#options.random ?? Math.random;
		this.#hintTimer = setTimeout(
			() => {
				this.#hintTimer = null;
				void this.sync();
			},
			Math.round(random() * hint.withinMs),
		);
	};
}
