import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileLayout } from '../src/lib/crypto';
import { PAUSED_KEEP_MS } from '../src/lib/sdk';
import { candidateName, formatBytes, keptPathIn, openKept, safeFileName, staleDownloads } from './files';

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

describe('the kept ciphertext of a download', () => {
	// 1000 bytes in chunks of 100: ten chunks, the first 141 bytes (header and overhead), the others 117.
	const layout = fileLayout(1000, 100);
	const chunk = (n: number) => randomBytes(layout.chunkBytes(n));
	let dir: string;

	beforeEach(() => {
		dir = mkdtempSync(join(tmpdir(), 'hourglass-kept-'));
	});

	afterEach(() => {
		rmSync(dir, { recursive: true, force: true });
	});

	async function readAll(path: string): Promise<Buffer[]> {
		const kept = await openKept(path, layout);
		const chunks: Buffer[] = [];
		for await (const c of kept.chunks()) chunks.push(Buffer.from(c));
		await kept.close();
		return chunks;
	}

	it('is a new hidden file in the save folder, by its absolute path', () => {
		const path = keptPathIn(dir);
		expect(isAbsolute(path)).toBe(true);
		expect(dirname(path)).toBe(dir);
		expect(path).toMatch(/\/\.hourglass-[0-9a-f]{12}\.kept$/);
		expect(keptPathIn(dir)).not.toBe(path);
	});

	it('appends chunks to an owner-only file and gives them back, each whole and in order', async () => {
		const path = keptPathIn(dir);
		const written = [chunk(0), chunk(1), chunk(2)];
		const kept = await openKept(path, layout);
		for (const [n, c] of written.entries()) await kept.append(n, c);
		expect(kept.count).toBe(3);
		expect(kept.bytes).toBe(141 + 117 + 117);
		await kept.close();
		expect(statSync(path).mode & 0o777).toBe(0o600);
		expect(readFileSync(path).equals(Buffer.concat(written))).toBe(true);

		const again = await openKept(path, layout);
		expect(again.count).toBe(3);
		const back: Buffer[] = [];
		for await (const c of again.chunks()) back.push(Buffer.from(c));
		expect(back).toEqual(written);
		// A resume appends after them.
		const fourth = chunk(3);
		await again.append(3, fourth);
		await again.close();
		expect(readFileSync(path).equals(Buffer.concat([...written, fourth]))).toBe(true);
	});

	it('truncates away a trailing partial chunk, a write cut by a kill', async () => {
		const path = keptPathIn(dir);
		const whole = [chunk(0), chunk(1)];
		writeFileSync(path, Buffer.concat([...whole, chunk(2).subarray(0, 50)]));
		const kept = await openKept(path, layout);
		expect(kept.count).toBe(2);
		expect(kept.bytes).toBe(141 + 117);
		expect(statSync(path).size).toBe(141 + 117);
		const replaced = chunk(2);
		await kept.append(2, replaced);
		await kept.close();
		expect(readFileSync(path).equals(Buffer.concat([...whole, replaced]))).toBe(true);
		expect(await readAll(path)).toEqual([...whole, replaced]);
	});

	it('keeps nothing of a first chunk cut short, nor past the last chunk of the file', async () => {
		const short = keptPathIn(dir);
		writeFileSync(short, chunk(0).subarray(0, 140));
		expect(await readAll(short)).toEqual([]);
		expect(statSync(short).size).toBe(0);

		const long = keptPathIn(dir);
		const all = Array.from({ length: layout.chunkCount }, (_, n) => chunk(n));
		writeFileSync(long, Buffer.concat([...all, randomBytes(30)]));
		expect(await readAll(long)).toEqual(all);
		expect(statSync(long).size).toBe(layout.ciphertextBytes);
	});

	it('reads an empty or a missing file as nothing kept, and creates a missing one on the first append', async () => {
		const empty = keptPathIn(dir);
		writeFileSync(empty, '');
		expect(await readAll(empty)).toEqual([]);

		const missing = keptPathIn(dir);
		const kept = await openKept(missing, layout);
		expect(kept.count).toBe(0);
		expect(kept.bytes).toBe(0);
		expect(() => statSync(missing)).toThrow(/ENOENT/);
		const first = chunk(0);
		await kept.append(0, first);
		await kept.close();
		expect(readFileSync(missing).equals(first)).toBe(true);
	});

	it('refuses a chunk out of its place, and removes the file', async () => {
		const path = keptPathIn(dir);
		const kept = await openKept(path, layout);
		await expect(kept.append(1, chunk(1))).rejects.toThrow(/chunk 1 appended after 0 chunks/);
		await kept.append(0, chunk(0));
		await kept.remove();
		expect(() => statSync(path)).toThrow(/ENOENT/);
	});
});

describe('paused downloads', () => {
	it('are dropped once PAUSED_KEEP_MS passed without a try, as the PWA drops its own', () => {
		const now = 1_800_000_000_000;
		const downloads = {
			recent: { at: now - 60_000 },
			edge: { at: now - PAUSED_KEEP_MS },
			old: { at: now - PAUSED_KEEP_MS - 1 },
		};
		expect(staleDownloads(downloads, now)).toEqual(['old']);
		expect(staleDownloads({}, now)).toEqual([]);
		expect(PAUSED_KEEP_MS).toBe(7 * 86_400_000);
	});
});
