import type { HubClock } from './clock.svelte';
import type { Conversations } from './conversations.svelte';

/**
 * Removes disappearing messages when their time comes, on this device. One timer, set by the hub
 * clock for the soonest removal (the `expiresAt` index), moved whenever a write may change it: no
 * tick per message, and none at all while nothing is due.
 */
export class Expiry {
	#conversations: Conversations;
	#clock: HubClock;
	#cancel: (() => void) | null = null;
	#running: Promise<void> | null = null;
	#again = false;
	#stopped = false;

	constructor(conversations: Conversations, clock: HubClock) {
		this.#conversations = conversations;
		this.#clock = clock;
	}

	/** Removes what is due now and sets the timer for the next; a call while one runs runs once more after it. */
	run(): Promise<void> {
		if (this.#running) {
			this.#again = true;
			return this.#running;
		}
		this.#running = (async () => {
			try {
				do {
					this.#again = false;
					const next = await this.#conversations.expireDue(this.#clock.exact());
					this.#cancel?.();
					this.#cancel = next === null || this.#stopped ? null : this.#clock.at(next, () => void this.run());
				} while (this.#again && !this.#stopped);
			} catch (error) {
				console.error('hourglass: removing disappearing messages failed', error);
			} finally {
				this.#running = null;
			}
		})();
		return this.#running;
	}

	stop(): void {
		this.#stopped = true;
		this.#cancel?.();
		this.#cancel = null;
	}
}
