import { describe, expect, it } from 'vitest';
import { LIMITS } from '../protocol';
import { THUMBNAIL_STEPS, fitWithin, isViewableImage } from './files-thumbnail';

describe('fitWithin', () => {
	it('shrinks the longer side to the box and keeps the proportions', () => {
		expect(fitWithin(4000, 3000, 320)).toEqual({ width: 320, height: 240 });
		expect(fitWithin(1000, 4000, 320)).toEqual({ width: 80, height: 320 });
	});

	it('never enlarges a small image', () => {
		expect(fitWithin(100, 50, 320)).toEqual({ width: 100, height: 50 });
	});

	it('keeps at least one pixel of a very thin image, and nothing of an empty one', () => {
		expect(fitWithin(10_000, 1, 320)).toEqual({ width: 320, height: 1 });
		expect(fitWithin(0, 10, 320)).toEqual({ width: 0, height: 0 });
	});
});

describe('thumbnail steps', () => {
	it('only get smaller or coarser, so the last is the most likely to fit', () => {
		for (let i = 1; i < THUMBNAIL_STEPS.length; i++) {
			const [before, step] = [THUMBNAIL_STEPS[i - 1]!, THUMBNAIL_STEPS[i]!];
			expect(step.side <= before.side && step.quality <= before.quality).toBe(true);
			expect(step.side < before.side || step.quality < before.quality).toBe(true);
		}
		// Even an uncompressed 96×96 RGB picture is under the limit.
		expect(96 * 96 * 3).toBeLessThan(LIMITS.thumbnailMaxBytes);
	});
});

describe('isViewableImage', () => {
	it('shows raster images inline and never SVG or other types', () => {
		expect(isViewableImage('image/jpeg')).toBe(true);
		expect(isViewableImage('IMAGE/PNG')).toBe(true);
		expect(isViewableImage('image/svg+xml')).toBe(false);
		expect(isViewableImage('text/html')).toBe(false);
		expect(isViewableImage('')).toBe(false);
	});
});
