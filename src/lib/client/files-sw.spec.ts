import { describe, expect, it } from 'vitest';
import { contentDisposition, safeFileName } from './files-sw';

describe('safeFileName', () => {
	it('keeps an ordinary name as it is', () => {
		expect(safeFileName('holiday photo (2).jpg')).toBe('holiday photo (2).jpg');
		expect(safeFileName('Überweisung.pdf')).toBe('Überweisung.pdf');
	});

	it('never lets a name reach another folder or carry control characters', () => {
		expect(safeFileName('../../etc/passwd')).toBe('_.._etc_passwd');
		expect(safeFileName('a\\b:c*?"<>|d')).toBe('a_b_c_d');
		expect(safeFileName('line\r\nbreak')).toBe('line_break');
		expect(safeFileName('...')).toBe('file');
		expect(safeFileName('')).toBe('file');
	});
});

describe('contentDisposition', () => {
	it('is an attachment whose names cannot break out of the header', () => {
		const header = contentDisposition('a"; filename=evil.html; x="it\'s é.txt');
		// One quoted ASCII name without quotes inside, then the UTF-8 name percent-encoded.
		expect(header).toMatch(/^attachment; filename="[^"]*"; filename\*=UTF-8''[A-Za-z0-9%._~!-]*$/);
		expect(header).toContain(encodeURIComponent('é'));
		expect(decodeURIComponent(header.split("''")[1]!)).toBe("a_; filename=evil.html; x=_it's é.txt");
	});
});
