import { t } from '../i18n';
import { SvelteMap } from 'svelte/reactivity';
import { FileIntegrityError, fileLayout } from '../crypto';
import { FileBody } from '../protocol';
import { ApiError, PAUSED_KEEP_MS, downloadFile, type HubApi } from '../sdk';
import { openText, type AccountDb } from './db';
import { openSaveTarget, type SaveTarget } from './files-save';
import { isViewableImage } from './files-thumbnail';
import { errorText } from './strings';

/** Offline copies: a file up to this size is kept once downloaded... */
export const OFFLINE_FILE_MAX_BYTES = 64 * 1024 * 1024;
/** ...and all of them together up to this, the oldest opened going first. */
export const OFFLINE_TOTAL_MAX_BYTES = 512 * 1024 * 1024;
/** An image larger than this is not opened in the viewer (it would sit whole in memory): it is saved instead. */
export const VIEW_MAX_BYTES = 64 * 1024 * 1024;
/**
 * Tries in a row after the connection breaks (waiting 0.5, 1, 2, 4, 8 s: 15.5 s in all) before a
 * download stops and shows as paused: a hub's restart takes a few seconds, and while the tries last
 * the save target stays open, so the download goes on by itself. Past them, Resume needs the user's
 * click (a save picker cannot open without one).
 */
export const DOWNLOAD_RETRIES = 5;

export interface DownloadView {
	/**
	 * `paused`: interrupted (a reload, a closed tab, the hub out of reach past DOWNLOAD_RETRIES) with
	 * chunks kept; the next Download resumes it.
	 */
	phase: 'downloading' | 'paused' | 'done' | 'failed';
	/** Downloading, but the connection broke: waiting to try again. */
	waiting: boolean;
	/** Ciphertext bytes received (or kept, when paused), of `totalBytes`. */
	doneBytes: number;
	totalBytes: number;
	/** What went wrong, in words, when `phase` is failed (or paused by an error). */
	error: string | null;
	/** What it was for: saving to disk, or opening in the viewer. */
	purpose: 'save' | 'view';
}

const refused = () => t('download.refused');

/**
 * Downloads of received (and sent) files: checked while they stream (src/lib/sdk/files.ts), written
 * to disk through a stream (files-save.ts) or opened as an image, with progress and cancel.
 *
 * Every ciphertext chunk is kept in IndexedDB as the hub sent it (FileChunkRow) as soon as it opened.
 * A download interrupted by a reload resumes from them: they are opened again through a fresh
 * decryption state (which libsodium cannot save) and written to the new target, and the hub is asked
 * only for the rest (`?from=`). Once complete, a file up to OFFLINE_FILE_MAX_BYTES stays kept as
 * its offline copy (bounded: OFFLINE_*), opened the same way without the hub; a larger one is
 * forgotten. Cancel, a refused file or its message going forgets what was kept.
 */
export class FileDownloads {
	#db: AccountDb;
	#api: HubApi;
	/** Opens the message rows, which hold the file's key: the kept chunks are useless without it. */
	#localKey: Uint8Array;
	#views = new SvelteMap<string, DownloadView>();
	#running = new Map<string, AbortController>(); // eslint-disable-line svelte/prefer-svelte-reactivity -- never read by a template

	constructor(db: AccountDb, api: HubApi, localKey: Uint8Array) {
		this.#db = db;
		this.#api = api;
		this.#localKey = localKey;
	}

	/** The download of message `id`, if one ran since the app started or one was interrupted before. */
	get(id: string): DownloadView | undefined {
		return this.#views.get(id);
	}

	/** Shows the downloads a reload interrupted as paused, at what they kept. */
	async load(): Promise<void> {
		const copies = await this.#db.fileCopies.filter((copy) => !copy.complete).toArray();
		for (const copy of copies) {
			if (this.#views.has(copy.messageId)) continue;
			const body = await this.#body(copy.messageId);
			if (!body) continue;
			const doneBytes = await this.#keptBytes(body);
			if (doneBytes === 0) continue;
			this.#views.set(copy.messageId, {
				phase: 'paused',
				waiting: false,
				doneBytes,
				totalBytes: fileLayout(body.size, body.chunkSize).ciphertextBytes,
				error: null,
				purpose: 'save',
			});
		}
	}

	/** Stops a download, or forgets a paused one: what it kept is discarded either way. */
	cancel(id: string): void {
		const running = this.#running.get(id);
		if (running) {
			running.abort(new DOMException('Cancelled', 'AbortError'));
			return;
		}
		if (this.#views.get(id)?.phase !== 'paused') return;
		this.#views.delete(id);
		void this.#body(id).then((body) => body && this.#forgetCopy(body.fileId));
	}

	/** True when the file of message `id` can be opened without the hub. */
	async isOffline(id: string): Promise<boolean> {
		const body = await this.#body(id);
		return body !== null && (await this.#db.fileCopies.get(body.fileId))?.complete === true;
	}

	/** Saves the file of message `id` where the user picks. Call it from the click itself. */
	async save(id: string): Promise<void> {
		const body = await this.#body(id);
		if (!body) return;
		let target: SaveTarget;
		try {
			target = await openSaveTarget(body.name, body.mime, body.size);
		} catch (error) {
			// The user closed the picker: nothing to say.
			if (error instanceof DOMException && error.name === 'AbortError') return;
			this.#views.set(id, failed('save', errorText(error, 'file')));
			return;
		}
		await this.#run(id, body, 'save', target);
	}

	/**
	 * The full image of message `id`, as a `blob:` URL for an <img> (revoke it when done), or null when
	 * it failed (the view says why) or is no image this app shows.
	 */
	async imageUrl(id: string): Promise<string | null> {
		const body = await this.#body(id);
		if (!body || !isViewableImage(body.mime) || body.size > VIEW_MAX_BYTES) return null;
		const parts: Uint8Array<ArrayBuffer>[] = [];
		const ok = await this.#run(id, body, 'view', {
			write: async (bytes) => void parts.push(new Uint8Array(bytes)),
			close: async () => {},
			abort: async () => void parts.splice(0),
		});
		return ok ? URL.createObjectURL(new Blob(parts, { type: body.mime.toLowerCase() })) : null;
	}

	async #run(id: string, body: FileBody, purpose: 'save' | 'view', target: SaveTarget): Promise<boolean> {
		if (this.#running.has(id)) {
			await target.abort();
			return false;
		}
		const controller = new AbortController();
		this.#running.set(id, controller);
		const view: DownloadView = {
			phase: 'downloading',
			waiting: false,
			doneBytes: 0,
			totalBytes: body.size,
			error: null,
			purpose,
		};
		this.#views.set(id, view);
		let last = { doneBytes: 0, totalBytes: body.size };
		const progress = (doneBytes: number, totalBytes: number) => {
			last = { doneBytes, totalBytes };
			this.#views.set(id, { ...view, ...last });
		};
		const waiting = () => this.#views.set(id, { ...view, ...last, waiting: true });
		try {
			await this.#download(id, body, target, controller.signal, progress, waiting);
			await target.close();
			this.#views.set(id, { ...view, phase: 'done', doneBytes: body.size, totalBytes: body.size });
			return true;
		} catch (error) {
			await target.abort().catch(() => undefined);
			const integrity = error instanceof FileIntegrityError;
			// Cancelled, or refused: nothing of it is worth keeping. Anything else (the hub out of
			// reach) keeps what came, for the next try.
			if (controller.signal.aborted || integrity) await this.#forgetCopy(body.fileId);
			if (controller.signal.aborted) {
				this.#views.delete(id);
				return false;
			}
			const unreachable =
				error instanceof TypeError || (error instanceof ApiError && error.code === 'UNAVAILABLE');
			const reason = integrity
				? refused()
				: unreachable
					? t('download.unreachable')
					: errorText(error, 'file');
			// A save that stopped part-way with chunks kept waits for Resume, saying why it stopped.
			const kept = integrity || purpose !== 'save' ? 0 : await this.#keptBytes(body).catch(() => 0);
			if (kept > 0) {
				this.#views.set(id, {
					...view,
					phase: 'paused',
					doneBytes: kept,
					totalBytes: last.totalBytes,
					error: reason,
				});
				return false;
			}
			this.#views.set(id, failed(purpose, reason));
			return false;
		} finally {
			this.#running.delete(id);
		}
	}

	/**
	 * The chunks kept from before (all of them for an offline copy), then the hub's from the first
	 * one missing, each kept as it comes; all checked in one pass, so the hash covers the whole file.
	 */
	async #download(
		id: string,
		body: FileBody,
		target: SaveTarget,
		signal: AbortSignal,
		progress: (done: number, total: number) => void,
		waiting: () => void,
	): Promise<void> {
		const copy = await this.#db.fileCopies.get(body.fileId);
		if (copy) {
			await this.#db.fileCopies.update(body.fileId, { at: Date.now() });
		} else {
			await this.#forgetCopy(body.fileId);
			await this.#db.fileCopies.put({
				fileId: body.fileId,
				messageId: id,
				bytes: body.size,
				at: Date.now(),
				complete: false,
			});
		}
		let keeping = true;
		await downloadFile(
			this.#api,
			body,
			{ write: (bytes) => target.write(bytes) },
			{
				signal,
				retries: DOWNLOAD_RETRIES,
				onRetry: waiting,
				kept: this.#kept(body.fileId),
				onChunk: async (n, chunk) => {
					if (!keeping) return;
					try {
						await this.#db.fileChunks.put({ fileId: body.fileId, n, ciphertext: chunk });
					} catch (error) {
						// Out of room (QuotaExceededError): the download goes on, without a resume or a copy.
						keeping = false;
						console.warn('hourglass: a download is no longer kept', error);
						await this.#forgetCopy(body.fileId).catch(() => undefined);
					}
				},
				onProgress: ({ doneBytes, totalBytes }) => progress(doneBytes, totalBytes),
			},
		);
		if (!keeping) return;
		if (body.size > OFFLINE_FILE_MAX_BYTES) {
			await this.#forgetCopy(body.fileId);
			return;
		}
		await this.#db.fileCopies.update(body.fileId, { complete: true, at: Date.now() });
		await this.#evict(body.fileId);
	}

	/** The kept ciphertext chunks of a file, in order from the first, up to the first one missing. */
	async *#kept(fileId: string): AsyncGenerator<Uint8Array> {
		for (let n = 0; ; n++) {
			const row = await this.#db.fileChunks.get([fileId, n]);
			if (!row) return;
			yield row.ciphertext;
		}
	}

	/** The ciphertext bytes of the chunks kept for `body`'s file (0 when none are). */
	async #keptBytes(body: FileBody): Promise<number> {
		const layout = fileLayout(body.size, body.chunkSize);
		const kept = Math.min(await this.#keptCount(body.fileId), layout.chunkCount);
		let bytes = 0;
		for (let n = 0; n < kept; n++) bytes += layout.chunkBytes(n);
		return bytes;
	}

	async #keptCount(fileId: string): Promise<number> {
		return this.#db.fileChunks.where('[fileId+n]').between([fileId, 0], [fileId, Infinity]).count();
	}

	async #forgetCopy(fileId: string): Promise<void> {
		await this.#db.transaction('rw', this.#db.fileCopies, this.#db.fileChunks, async () => {
			await this.#db.fileCopies.delete(fileId);
			await this.#db.fileChunks.where('[fileId+n]').between([fileId, 0], [fileId, Infinity]).delete();
		});
	}

	/**
	 * Forgets the copies of files whose message was removed or deleted for everyone, and what
	 * interrupted downloads kept once PAUSED_KEEP_MS passed without a try.
	 */
	async sweep(now = Date.now()): Promise<void> {
		const copies = await this.#db.fileCopies.toArray();
		const rows = await this.#db.messages.bulkGet(copies.map((copy) => copy.messageId));
		for (const [i, copy] of copies.entries()) {
			const stale = !copy.complete && !this.#running.has(copy.messageId) && now - copy.at > PAUSED_KEEP_MS;
			if (!rows[i]?.file || stale) {
				await this.#forgetCopy(copy.fileId);
				if (this.#views.get(copy.messageId)?.phase === 'paused') this.#views.delete(copy.messageId);
			}
		}
	}

	/** Drops the oldest opened complete copies (never `keep`) until all of them fit OFFLINE_TOTAL_MAX_BYTES. */
	async #evict(keep: string): Promise<void> {
		const copies = (await this.#db.fileCopies.orderBy('at').toArray()).filter((copy) => copy.complete);
		let total = copies.reduce((sum, copy) => sum + copy.bytes, 0);
		for (const copy of copies) {
			if (total <= OFFLINE_TOTAL_MAX_BYTES) return;
			if (copy.fileId === keep) continue;
			await this.#forgetCopy(copy.fileId);
			total -= copy.bytes;
		}
	}

	/** The checked file body of message `id`, opened from its sealed row. */
	async #body(id: string): Promise<FileBody | null> {
		const row = await this.#db.messages.get(id);
		if (!row?.file) return null;
		const parsed = FileBody.safeParse(JSON.parse(openText(row.file, this.#localKey)));
		return parsed.success ? parsed.data : null;
	}
}

function failed(purpose: DownloadView['purpose'], error: string): DownloadView {
	return { phase: 'failed', waiting: false, doneBytes: 0, totalBytes: 0, error, purpose };
}
