import { describe, expect, it } from 'vitest';
import { LIMITS } from '../protocol';
import { afterPaste, lengthState, textFileName } from './long-text';

describe('lengthState', () => {
	it('is ok below 90 % of the protocol limit, near up to it, over past it', () => {
		const max = LIMITS.textMaxChars;
		expect(lengthState(0)).toBe('ok');
		expect(lengthState(Math.ceil(max * 0.9) - 1)).toBe('ok');
		expect(lengthState(Math.ceil(max * 0.9))).toBe('near');
		expect(lengthState(max)).toBe('near');
		expect(lengthState(max + 1)).toBe('over');
		expect(lengthState(11, 10)).toBe('over');
	});
});

describe('afterPaste', () => {
	it('replaces the selection with the pasted text and keeps the rest whole', () => {
		expect(afterPaste('hello world', 6, 11, 'there')).toBe('hello there');
		expect(afterPaste('ab', 1, 1, 'X')).toBe('aXb');
		expect(afterPaste('', 0, 0, 'x'.repeat(100_000))).toHaveLength(100_000);
	});
});

describe('textFileName', () => {
	it('names the file after the time it is sent, ending in .txt', () => {
		expect(textFileName(Date.UTC(2026, 11, 2, 4, 23))).toBe('message-2026-12-02-0423.txt');
	});
});
