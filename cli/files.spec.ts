import { describe, expect, it } from 'vitest';
import { candidateName, formatBytes, safeFileName } from './files';

describe('saving received files', () => {
	it('takes plain names only', () => {
		expect(safeFileName('report.pdf')).toBe('report.pdf');
		expect(safeFileName('photo 2030-01-31 (1).jpg')).toBe('photo 2030-01-31 (1).jpg');
		for (const name of [
			'',
			'.',
			'..',
			'../etc/passwd',
			'a/b.txt',
			'a\\b.txt',
			'/abs.txt',
			'.bashrc',
			'bad\u0000name',
			'line\nbreak.txt',
			'evil\u202eexe.txt',
			'x'.repeat(256),
		]) {
			expect(safeFileName(name), JSON.stringify(name)).toBeNull();
		}
	});

	it('numbers a name that is taken, before its extension', () => {
		expect(candidateName('report.pdf', 0)).toBe('report.pdf');
		expect(candidateName('report.pdf', 1)).toBe('report (1).pdf');
		expect(candidateName('archive', 2)).toBe('archive (2)');
	});

	it('prints sizes in binary units', () => {
		expect(formatBytes(7)).toBe('7 B');
		expect(formatBytes(300_000)).toBe('293.0 KiB');
		expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
	});
});
