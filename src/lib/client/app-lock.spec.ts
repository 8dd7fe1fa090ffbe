import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleTimer } from './app-lock';

describe('IdleTimer', () => {
	let page: EventTarget;

	beforeEach(() => {
		vi.useFakeTimers();
		page = new EventTarget();
		vi.stubGlobal('window', page);
		vi.stubGlobal('document', new EventTarget());
	});

	afterEach(() => {
		vi.unstubAllGlobals();
		vi.useRealTimers();
	});

	it('fires once after the whole period without interaction, counted from the last one', () => {
		const idle = vi.fn();
		new IdleTimer().start(60_000, idle);
		vi.advanceTimersByTime(40_000);
		page.dispatchEvent(new Event('keydown'));
		vi.advanceTimersByTime(59_000);
		expect(idle).not.toHaveBeenCalled();
		vi.advanceTimersByTime(1_000);
		expect(idle).toHaveBeenCalledTimes(1);
		vi.advanceTimersByTime(10 * 60_000);
		expect(idle).toHaveBeenCalledTimes(1);
	});

	it('stops listening and never fires once stopped', () => {
		const idle = vi.fn();
		const timer = new IdleTimer();
		timer.start(60_000, idle);
		timer.stop();
		vi.advanceTimersByTime(5 * 60_000);
		expect(idle).not.toHaveBeenCalled();
	});
});
