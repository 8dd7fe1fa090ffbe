import { createSubscriber } from 'svelte/reactivity';
import { call, type HubSocket } from '../sdk';
import { probe } from './probe';

/**
 * The hub's clock as seen from this device. Time-locks open by the hub's clock, so countdowns use
 * `now` (device time plus the measured offset) and stay right when the device clock is wrong.
 *
 * The clock ticks only while something on screen reads it: an open conversation with no countdown
 * runs no timer at all, and a countdown re-renders itself, not the rows around it.
 */
export class HubClock {
	#offset = $state(0);
	#secondTimer: ReturnType<typeof setTimeout> | null = null;
	#dayTimer: ReturnType<typeof setTimeout> | null = null;
	#seconds = createSubscriber((update) => {
		const tick = () => {
			probe('clock:second');
			update();
			// Tick on the hub's second boundaries, so a countdown reaches zero when the hub's clock does.
			this.#secondTimer = setTimeout(tick, 1000 - (this.exact() % 1000));
		};
		this.#secondTimer = setTimeout(tick, 1000 - (this.exact() % 1000));
		return () => {
			if (this.#secondTimer) clearTimeout(this.#secondTimer);
			this.#secondTimer = null;
		};
	});
	#minuteTimer: ReturnType<typeof setTimeout> | null = null;
	#minutes = createSubscriber((update) => {
		const tick = () => {
			update();
			this.#minuteTimer = setTimeout(tick, 60_000 - (this.exact() % 60_000));
		};
		this.#minuteTimer = setTimeout(tick, 60_000 - (this.exact() % 60_000));
		return () => {
			if (this.#minuteTimer) clearTimeout(this.#minuteTimer);
			this.#minuteTimer = null;
		};
	});
	#days = createSubscriber((update) => {
		const tick = () => {
			update();
			this.#dayTimer = setTimeout(tick, untilTomorrow(this.exact()));
		};
		this.#dayTimer = setTimeout(tick, untilTomorrow(this.exact()));
		return () => {
			if (this.#dayTimer) clearTimeout(this.#dayTimer);
			this.#dayTimer = null;
		};
	});

	/** The hub's time, refreshed every second while read in a template: for live countdowns. */
	get now(): number {
		this.#seconds();
		return Date.now() + this.#offset;
	}

	/** The hub's time, refreshed on each of its minute boundaries while read: for countdowns far from their end. */
	get minute(): number {
		this.#minutes();
		return this.exact();
	}

	/** The start of the local day by the hub's clock (a device clock may be wrong), refreshed at midnight: for "today at 14:02" labels. */
	get today(): number {
		this.#days();
		return startOfDay(this.exact());
	}

	/** The hub's time right now, for code (not reactive). */
	exact(): number {
		return Date.now() + this.#offset;
	}

	/**
	 * Runs `fn` once at the hub time `at` (a removal that is due then): one timer for one moment,
	 * nothing that ticks meanwhile. Returns its cancel.
	 */
	at(at: number, fn: () => void): () => void {
		// setTimeout's longest wait is about 24.8 days: a later moment is looked at again then.
		const wait = Math.min(Math.max(0, at - this.exact()), 2 ** 31 - 1);
		const timer = setTimeout(() => (this.exact() >= at ? fn() : this.at(at, fn)), wait);
		return () => clearTimeout(timer);
	}

	/** Takes the offset from a hub timestamp read at the midpoint of a round trip. */
	adjust(serverNow: number, sentAt: number, receivedAt: number): void {
		this.#offset = Math.round(serverNow - (sentAt + receivedAt) / 2);
	}

	/** Measures the offset with `time:sync`, keeping the sample with the shortest round trip. */
	async sync(socket: HubSocket, samples = 3): Promise<void> {
		let best: { rtt: number; serverNow: number; sentAt: number; receivedAt: number } | null = null;
		for (let i = 0; i < samples; i++) {
			const sentAt = Date.now();
			const { serverNow } = await call(socket, 'time:sync', {}, 5_000);
			const receivedAt = Date.now();
			const rtt = receivedAt - sentAt;
			if (!best || rtt < best.rtt) best = { rtt, serverNow, sentAt, receivedAt };
		}
		if (best) this.adjust(best.serverNow, best.sentAt, best.receivedAt);
	}
}

function startOfDay(ms: number): number {
	const d = new Date(ms);
	return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** A little past the next local midnight (a day may be 23 or 25 hours long). */
function untilTomorrow(hubNow: number): number {
	const now = new Date(hubNow);
	const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1).getTime();
	return Math.max(1000, midnight + 50 - hubNow);
}
