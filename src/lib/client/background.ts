/**
 * Work the app can do later (building the search index after an unlock) runs in short steps, when
 * the person is not using the page: it waits until nothing was clicked, typed, touched or scrolled
 * for `quietMs`, then for an idle moment of the browser. A click that opens a conversation is
 * never queued behind a step of it, and the steps that come after wait until that open is done.
 */

/** What the person does with the page that background work must not delay. */
const INPUT_EVENTS = ['pointerdown', 'keydown', 'click', 'wheel', 'touchstart'] as const;

/** How long after the last input background work waits: an open, a search or a scroll is over by then. */
const QUIET_MS = 1_000;

/** The time a step should take at most: the work checks its budget and waits for the next step when it is spent. */
const STEP_MS = 8;

/** The longest wait for an idle moment: a page that never idles still gets its background work done. */
const IDLE_TIMEOUT_MS = 1_000;

export interface BackgroundClock {
	now(): number;
	sleep(ms: number): Promise<void>;
	/** Resolves at the browser's next idle moment (or after `IDLE_TIMEOUT_MS`). */
	idle(): Promise<void>;
	/** Resolves in a task of its own, after what the browser has queued (input, a frame). */
	yield(): Promise<void>;
}

export interface BackgroundOptions {
	/** Where input is listened for (the window in the app). */
	target?: EventTarget;
	clock?: BackgroundClock;
	quietMs?: number;
	stepMs?: number;
}

/** A step's budget: true while it may go on. */
export type StepBudget = () => boolean;

/** A task of its own: a message event, which neither nesting nor a hidden page throttles (timers are). */
function nextTask(): Promise<void> {
	return new Promise((resolve) => {
		const channel = new MessageChannel();
		channel.port1.onmessage = () => {
			channel.port1.close();
			resolve();
		};
		channel.port2.postMessage(null);
	});
}

const browserClock: BackgroundClock = {
	now: () => performance.now(),
	sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
	idle: () => {
		// A hidden page has nobody to keep waiting, and its timers and idle callbacks are
		// throttled (to one a minute after five minutes hidden).
		if (typeof document !== 'undefined' && document.visibilityState === 'hidden') return nextTask();
		return new Promise((resolve) => {
			// Safari has no requestIdleCallback: a timer lets the browser paint and handle input first.
			if (typeof requestIdleCallback === 'function')
				requestIdleCallback(() => resolve(), { timeout: IDLE_TIMEOUT_MS });
			else setTimeout(resolve, 0);
		});
	},
	yield: nextTask,
};

export class Background {
	readonly #target: EventTarget | undefined;
	readonly #clock: BackgroundClock;
	readonly #quietMs: number;
	readonly #stepMs: number;
	#lastInput = Number.NEGATIVE_INFINITY;
	/**
	 * Someone is waiting for this work (a search page is open): its steps do not wait for quiet or
	 * for idle moments, only for what the browser queued (input and frames go first).
	 */
	urgent = false;
	readonly #onInput = () => {
		this.#lastInput = this.#clock.now();
	};

	constructor(options: BackgroundOptions = {}) {
		this.#target = options.target ?? (typeof window === 'undefined' ? undefined : window);
		this.#clock = options.clock ?? browserClock;
		this.#quietMs = options.quietMs ?? QUIET_MS;
		this.#stepMs = options.stepMs ?? STEP_MS;
		for (const type of INPUT_EVENTS) {
			this.#target?.addEventListener(type, this.#onInput, { capture: true, passive: true });
		}
	}

	/**
	 * Resolves when the next step may run: `quietMs` after the last input, at an idle moment (when
	 * `urgent`, in the next task). The budget it gives is spent `stepMs` after that moment.
	 */
	async step(): Promise<StepBudget> {
		for (;;) {
			const quietFor = this.#clock.now() - this.#lastInput;
			if (!this.urgent && quietFor < this.#quietMs) {
				await this.#clock.sleep(this.#quietMs - quietFor);
				continue;
			}
			if (this.urgent) await this.#clock.yield();
			else await this.#clock.idle();
			const start = this.#clock.now();
			// An input while waiting for the idle moment starts the quiet time again.
			if (!this.urgent && start - this.#lastInput < this.#quietMs) continue;
			return () => this.#clock.now() - start < this.#stepMs;
		}
	}

	dispose(): void {
		for (const type of INPUT_EVENTS) {
			this.#target?.removeEventListener(type, this.#onInput, { capture: true });
		}
	}
}
