/** What counts as the user being there: any press, key, touch, wheel or pointer movement in the tab. */
const ACTIVITY = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'] as const;

/**
 * The app lock's timer: calls `onIdle` once the tab has gone `ms` without user interaction. An
 * interaction only notes the time; the timer, when it fires, waits out whatever is left, so typing
 * costs nothing. Going back to a tab re-checks at once (a hidden tab's timers may have slept).
 */
export class IdleTimer {
	#ms = 0;
	#last = 0;
	#timer: ReturnType<typeof setTimeout> | null = null;
	#onIdle: (() => void) | null = null;

	start(ms: number, onIdle: () => void): void {
		this.stop();
		this.#ms = ms;
		this.#onIdle = onIdle;
		this.#last = Date.now();
		for (const event of ACTIVITY)
			window.addEventListener(event, this.#activity, { capture: true, passive: true });
		document.addEventListener('visibilitychange', this.#check);
		this.#arm(ms);
	}

	stop(): void {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		this.#onIdle = null;
		for (const event of ACTIVITY) window.removeEventListener(event, this.#activity, { capture: true });
		document.removeEventListener('visibilitychange', this.#check);
	}

	#activity = () => {
		this.#last = Date.now();
	};

	#arm(delay: number): void {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = setTimeout(this.#check, delay);
	}

	#check = () => {
		const idle = Date.now() - this.#last;
		if (idle < this.#ms) {
			this.#arm(this.#ms - idle);
			return;
		}
		const onIdle = this.#onIdle;
		this.stop();
		onIdle?.();
	};
}
