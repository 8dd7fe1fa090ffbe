import { afterEach, describe, expect, it, vi } from 'vitest';
import { Background, type BackgroundClock } from './background';

/** A clock that moves only when told: `sleep` and `idle` wait for `advance`. */
class FakeClock implements BackgroundClock {
	time = 0;
	idles = 0;
	#waiting: { at: number; resolve: () => void }[] = [];

	now(): number {
		return this.time;
	}

	sleep(ms: number): Promise<void> {
		return new Promise((resolve) => this.#waiting.push({ at: this.time + ms, resolve }));
	}

	idle(): Promise<void> {
		this.idles++;
		return this.sleep(1);
	}

	yield(): Promise<void> {
		return this.sleep(0);
	}

	/** Moves the clock on by `ms`, a millisecond at a time, running what falls due. */
	async advance(ms: number): Promise<void> {
		for (let i = 0; i < ms; i++) {
			this.time++;
			const due = this.#waiting.filter((w) => w.at <= this.time);
			this.#waiting = this.#waiting.filter((w) => w.at > this.time);
			for (const w of due) w.resolve();
			await flush();
		}
	}
}

async function flush(): Promise<void> {
	for (let i = 0; i < 5; i++) await Promise.resolve();
}

function setUp(quietMs = 100, stepMs = 8) {
	const clock = new FakeClock();
	const target = new EventTarget();
	const background = new Background({ target, clock, quietMs, stepMs });
	return { clock, target, background };
}

describe('Background', () => {
	it('runs a step at the first idle moment when nobody used the page', async () => {
		const { clock, background } = setUp();
		let ran = false;
		void background.step().then(() => (ran = true));
		await clock.advance(1);
		expect(ran).toBe(true);
		expect(clock.idles).toBe(1);
	});

	it('waits until the page was left alone for the quiet time after a click, a key or a scroll', async () => {
		for (const type of ['click', 'keydown', 'pointerdown', 'wheel', 'touchstart']) {
			const { clock, target, background } = setUp(100);
			await clock.advance(500);
			target.dispatchEvent(new Event(type));
			let ranAt: number | null = null;
			void background.step().then(() => (ranAt = clock.time));
			await clock.advance(50);
			// More input while it waits: the quiet time starts again.
			target.dispatchEvent(new Event(type));
			await clock.advance(99);
			expect(ranAt, type).toBeNull();
			await clock.advance(10);
			// 100 ms after the second input, at the idle moment that follows.
			expect(ranAt, type).toBe(651);
		}
	});

	it('starts the quiet time again when input comes while it waits for an idle moment', async () => {
		const { clock, target, background } = setUp(100);
		let ran = false;
		void background.step().then(() => (ran = true));
		// The idle moment is 1 ms away; a click lands before it.
		target.dispatchEvent(new Event('click'));
		await clock.advance(1);
		expect(ran).toBe(false);
		await clock.advance(105);
		expect(ran).toBe(true);
	});

	it('does not wait for quiet while someone waits for the work (urgent)', async () => {
		const { clock, target, background } = setUp(100);
		background.urgent = true;
		target.dispatchEvent(new Event('keydown'));
		let ran = false;
		void background.step().then(() => (ran = true));
		await clock.advance(1);
		expect(ran).toBe(true);
		// Back to waiting for quiet once nobody waits.
		background.urgent = false;
		target.dispatchEvent(new Event('keydown'));
		ran = false;
		void background.step().then(() => (ran = true));
		await clock.advance(50);
		expect(ran).toBe(false);
		await clock.advance(60);
		expect(ran).toBe(true);
	});

	it('gives each step a budget of stepMs', async () => {
		const { clock, background } = setUp(100, 8);
		const step = background.step();
		await clock.advance(1);
		const budget = await step;
		expect(budget()).toBe(true);
		clock.time += 7;
		expect(budget()).toBe(true);
		clock.time += 1;
		expect(budget()).toBe(false);
	});

	it('stops listening once disposed', async () => {
		const { clock, target, background } = setUp(100);
		background.dispose();
		target.dispatchEvent(new Event('click'));
		let ran = false;
		void background.step().then(() => (ran = true));
		await clock.advance(1);
		expect(ran).toBe(true);
	});

	describe('with the browser clock', () => {
		afterEach(() => {
			vi.useRealTimers();
			vi.unstubAllGlobals();
		});

		async function ranWithTimersStopped(visibilityState: string): Promise<boolean> {
			vi.stubGlobal('document', { visibilityState });
			vi.useFakeTimers({ toFake: ['setTimeout'] });
			const background = new Background({ target: new EventTarget() });
			let ran = false;
			void background.step().then(() => (ran = true));
			await new Promise<void>((resolve) => setImmediate(resolve));
			await flush();
			return ran;
		}

		it('waits for a timer or an idle moment in a visible page', async () => {
			expect(await ranWithTimersStopped('visible')).toBe(false);
		});

		it('needs no timer in a hidden page, whose timers the browser throttles', async () => {
			expect(await ranWithTimersStopped('hidden')).toBe(true);
		});
	});
});
