import { call, type HubSocket } from '../sdk';

/**
 * The hub's clock as seen from this device. Time-locks open by the hub's clock, so countdowns use
 * `now` (device time plus the measured offset) and stay right when the device clock is wrong.
 */
export class HubClock {
	#offset = $state(0);
	#local = $state(Date.now());
	#timer: ReturnType<typeof setTimeout> | null = null;

	/** The hub's time, refreshed every second: read it in templates to get a live countdown. */
	get now(): number {
		return this.#local + this.#offset;
	}

	/** The hub's time right now, for code (not reactive). */
	exact(): number {
		return Date.now() + this.#offset;
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

	start(): void {
		if (this.#timer) return;
		const tick = () => {
			this.#local = Date.now();
			// Tick on the hub's second boundaries, so a countdown reaches zero when the hub's clock does.
			this.#timer = setTimeout(tick, 1000 - (this.exact() % 1000));
		};
		tick();
	}

	stop(): void {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
	}
}
