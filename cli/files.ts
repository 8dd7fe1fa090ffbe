import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, linkSync, rmSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { formatBytes } from '../src/lib/client/strings';
import type { FileSink, FileSource, TransferProgress } from '../src/lib/sdk';
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
 * Writes a download to a hidden temporary file in `dir`; `keep` then gives it a name of its own
 * there (never replacing a file: a hard link fails when the name is taken), `discard` removes it.
 */
export function saveInto(dir: string): {
	sink: FileSink;
	keep(name: string): Promise<string>;
	discard(): Promise<void>;
} {
	const temporary = join(dir, `.hourglass-${randomBytes(6).toString('hex')}.part`);
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

/** The progress line: `name: 42% (1.2 MiB of 3.0 MiB)`. */
export function formatProgress(name: string, progress: TransferProgress): string {
	const percent =
		progress.totalBytes === 0 ? 100 : Math.floor((progress.doneBytes / progress.totalBytes) * 100);
	const of = t('file.progress', {
		done: formatBytes(progress.doneBytes),
		total: formatBytes(progress.totalBytes),
	});
	return `${name}: ${percent}% (${of})`;
}
