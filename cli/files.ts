import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, linkSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { formatBytes } from '../src/lib/client/strings';
import type { FileLayout } from '../src/lib/crypto';
import { PAUSED_KEEP_MS, type FileSink, type FileSource, type TransferProgress } from '../src/lib/sdk';
import { t } from './i18n';

export { formatBytes };

/** Media types by extension, for the file message (informative: receivers never render by it). */
const MEDIA_TYPES: Record<string, string> = {
	'.jpg': 'image/jpeg',
	'.jpeg': 'image/jpeg',
	'.png': 'image/png',
	'.gif': 'image/gif',
	'.webp': 'image/webp',
	'.pdf': 'application/pdf',
	'.txt': 'text/plain',
	'.md': 'text/markdown',
	'.json': 'application/json',
	'.zip': 'application/zip',
	'.mp4': 'video/mp4',
	'.mp3': 'audio/mpeg',
};

/** A file on disk to send: its name, type and size, read as a stream (again when an upload resumes). */
export function diskSource(path: string): FileSource & { name: string; mime: string; mtimeMs: number } {
	const info = statSync(path);
	if (!info.isFile()) throw new Error(t('file.notAFile', { path }));
	return {
		size: info.size,
		name: basename(path),
		mime: MEDIA_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
		mtimeMs: info.mtimeMs,
		read: () => createReadStream(path),
	};
}

/**
 * The name a received file is saved under, or null when it is not one plain name: a path separator,
 * `.` or `..`, a control character or a leading dot (a hidden file) could write elsewhere or hide it.
 */
export function safeFileName(name: string): string | null {
	if (name.length === 0 || name.length > 255) return null;
	if (/[/\\]/.test(name) || name === '.' || name === '..' || name.startsWith('.')) return null;
	// eslint-disable-next-line no-control-regex -- refusing control characters is the point
	if (/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(name)) return null;
	return name;
}

/** `name`, or `name (1).ext`, `name (2).ext`… : the n-th candidate when saving without overwriting. */
export function candidateName(name: string, n: number): string {
	if (n === 0) return name;
	const ext = extname(name);
	return `${name.slice(0, name.length - ext.length)} (${n})${ext}`;
}

/**
 * Writes a download to a hidden temporary file in `dir` (`path`, absolute); `keep` then gives it a
 * name of its own there (never replacing a file: a hard link fails when the name is taken),
 * `discard` removes it.
 */
export function saveInto(dir: string): {
	path: string;
	sink: FileSink;
	keep(name: string): Promise<string>;
	discard(): Promise<void>;
} {
	const temporary = resolve(dir, `.hourglass-${randomBytes(6).toString('hex')}.part`);
	const out = createWriteStream(temporary, { flags: 'wx', mode: 0o600 });
	const sink: FileSink = {
		write: (bytes) =>
			new Promise<void>((resolve, reject) => {
				out.write(bytes, (error) => (error ? reject(error) : resolve()));
			}),
	};
	const close = async () => {
		out.end();
		await finished(out);
	};
	return {
		path: temporary,
		sink,
		async keep(name) {
			await close();
			try {
				for (let n = 0; ; n++) {
					const path = join(dir, candidateName(name, n));
					try {
						linkSync(temporary, path);
						return path;
					} catch (error) {
						if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
					}
				}
			} finally {
				rmSync(temporary, { force: true });
			}
		},
		async discard() {
			await close().catch(() => undefined);
			rmSync(temporary, { force: true });
		},
	};
}

/** Where a download into `dir` keeps its ciphertext: a new hidden file, by its absolute path. */
export function keptPathIn(dir: string): string {
	return resolve(dir, `.hourglass-${randomBytes(6).toString('hex')}.kept`);
}

/**
 * The ciphertext chunks a download kept, in order from the first, in one file: what an interrupted
 * download resumes from (a decryption state cannot be saved, so they are opened again). Opening it
 * truncates away a trailing partial chunk (a write cut by a kill); a missing file keeps nothing yet
 * and is created, owner-only, by the first append.
 */
export interface KeptChunks {
	readonly path: string;
	/** Whole chunks kept. */
	readonly count: number;
	/** Their ciphertext bytes. */
	readonly bytes: number;
	/** The chunks kept when it was opened, read one at a time. */
	chunks(): AsyncGenerator<Uint8Array>;
	/** Appends chunk `n`, the next one; resolves once it is written. */
	append(n: number, chunk: Uint8Array): Promise<void>;
	close(): Promise<void>;
	/** Closes and deletes the file. */
	remove(): Promise<void>;
}

export async function openKept(path: string, layout: FileLayout): Promise<KeptChunks> {
	let handle: FileHandle | null = null;
	try {
		handle = await open(path, 'r+');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
	}
	let count = 0;
	let bytes = 0;
	if (handle) {
		const { size } = await handle.stat();
		while (count < layout.chunkCount && bytes + layout.chunkBytes(count) <= size) {
			bytes += layout.chunkBytes(count);
			count += 1;
		}
		if (size > bytes) await handle.truncate(bytes);
	}
	const keptAtOpen = count;
	const close = async () => {
		const closing = handle;
		handle = null;
		await closing?.close();
	};
	return {
		path,
		get count() {
			return count;
		},
		get bytes() {
			return bytes;
		},
		async *chunks() {
			let position = 0;
			for (let n = 0; n < keptAtOpen; n++) {
				const chunk = new Uint8Array(layout.chunkBytes(n));
				for (let filled = 0; filled < chunk.length;) {
					const { bytesRead } = await handle!.read(chunk, filled, chunk.length - filled, position + filled);
					if (bytesRead === 0) throw new Error(`openKept: ${path} is shorter than when it was opened`);
					filled += bytesRead;
				}
				position += chunk.length;
				yield chunk;
			}
		},
		async append(n, chunk) {
			if (n !== count) throw new Error(`openKept: chunk ${n} appended after ${count} chunks`);
			handle ??= await open(path, 'wx', 0o600);
			for (let written = 0; written < chunk.length;) {
				const result = await handle.write(chunk, written, chunk.length - written, bytes + written);
				written += result.bytesWritten;
			}
			bytes += chunk.length;
			count += 1;
		},
		close,
		async remove() {
			await close();
			rmSync(path, { force: true });
		},
	};
}

/** The progress line: `name: 42% (1.2 MiB of 3.0 MiB)`. */
/**
 * The ids of pending downloads not tried for PAUSED_KEEP_MS (each try stamps `at`): what they
 * kept is dropped, as the PWA drops its own; the hub has likely purged the file by then anyway.
 */
export function staleDownloads(downloads: Record<string, { at: number }>, now: number): string[] {
	return Object.entries(downloads)
		.filter(([, pending]) => now - pending.at > PAUSED_KEEP_MS)
		.map(([id]) => id);
}

export function formatProgress(name: string, progress: TransferProgress): string {
	const percent =
		progress.totalBytes === 0 ? 100 : Math.floor((progress.doneBytes / progress.totalBytes) * 100);
	const of = t('file.progress', {
		done: formatBytes(progress.doneBytes),
		total: formatBytes(progress.totalBytes),
	});
	return `${name}: ${percent}% (${of})`;
}
