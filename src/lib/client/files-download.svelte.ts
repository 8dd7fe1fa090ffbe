import { t } from '../i18n';
import { SvelteMap } from 'svelte/reactivity';
import { FileIntegrityError, openWithKey, sealWithKey } from '../crypto';
import { FileBody } from '../protocol';
import { downloadFile, type HubApi } from '../sdk';
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

export interface DownloadView {
	phase: 'downloading' | 'done' | 'failed';
	doneBytes: number;
	totalBytes: number;
	/** What went wrong, in words, when `phase` is failed. */
	error: string | null;
	/** What it was for: saving to disk, or opening in the viewer. */
	purpose: 'save' | 'view';
}

const refused = () => t('download.refused');

/**
 * Downloads of received (and sent) files: checked while they stream (src/lib/sdk/files.ts), written
 * to disk through a stream (files-save.ts) or opened as an image, with progress and cancel. What
 * was downloaded once is kept for offline use, as pieces sealed with the account's localKey in
 * IndexedDB (bounded: OFFLINE_*), and opened from there afterwards without the hub.
 */
export class FileDownloads {
	#db: AccountDb;
	#api: HubApi;
	#localKey: Uint8Array;
	#views = new SvelteMap<string, DownloadView>();
	#running = new Map<string, AbortController>(); // eslint-disable-line svelte/prefer-svelte-reactivity -- never read by a template

	constructor(db: AccountDb, api: HubApi, localKey: Uint8Array) {
		this.#db = db;
		this.#api = api;
		this.#localKey = localKey;
	}

	/** The download of message `id`, if one ran since the app started. */
	get(id: string): DownloadView | undefined {
		return this.#views.get(id);
	}

	cancel(id: string): void {
		this.#running.get(id)?.abort(new DOMException('Cancelled', 'AbortError'));
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
			doneBytes: 0,
			totalBytes: body.size,
			error: null,
			purpose,
		};
		this.#views.set(id, view);
		const progress = (doneBytes: number, totalBytes: number) =>
			this.#views.set(id, { ...view, doneBytes, totalBytes });
		try {
			const copy = await this.#db.fileCopies.get(body.fileId);
			if (copy?.complete) {
				await this.#fromCopy(body, target, controller.signal, progress);
			} else {
				await this.#fromHub(id, body, target, controller.signal, progress);
			}
			await target.close();
			this.#views.set(id, { ...view, phase: 'done', doneBytes: body.size, totalBytes: body.size });
			return true;
		} catch (error) {
			await target.abort().catch(() => undefined);
			if (controller.signal.aborted) {
				this.#views.delete(id);
				return false;
			}
			this.#views.set(
				id,
				failed(purpose, error instanceof FileIntegrityError ? refused() : errorText(error, 'file')),
			);
			return false;
		} finally {
			this.#running.delete(id);
		}
	}

	/** From the hub, checked chunk by chunk; kept offline as it goes, and forgotten if it turns out bad. */
	async #fromHub(
		id: string,
		body: FileBody,
		target: SaveTarget,
		signal: AbortSignal,
		progress: (done: number, total: number) => void,
	): Promise<void> {
		const keep = body.size <= OFFLINE_FILE_MAX_BYTES;
		if (keep) {
			await this.#forgetCopy(body.fileId);
			// Marked unfinished first, so that pieces left by a reload mid-way are swept.
			const copy = { fileId: body.fileId, messageId: id, bytes: body.size, at: Date.now(), complete: false };
			await this.#db.fileCopies.put(copy);
		}
		let n = 0;
		try {
			await downloadFile(
				this.#api,
				body,
				{
					write: async (bytes) => {
						if (keep) {
							const { nonce, ciphertext } = sealWithKey(bytes, this.#localKey);
							await this.#db.fileChunks.put({ fileId: body.fileId, n: n++, sealed: { nonce, ciphertext } });
						}
						await target.write(bytes);
					},
				},
				{ signal, onProgress: ({ doneBytes, totalBytes }) => progress(doneBytes, totalBytes) },
			);
		} catch (error) {
			if (keep) await this.#forgetCopy(body.fileId);
			throw error;
		}
		if (keep) {
			await this.#db.fileCopies.update(body.fileId, { complete: true, at: Date.now() });
			await this.#evict(body.fileId);
		}
	}

	async #fromCopy(
		body: FileBody,
		target: SaveTarget,
		signal: AbortSignal,
		progress: (done: number, total: number) => void,
	): Promise<void> {
		await this.#db.fileCopies.update(body.fileId, { at: Date.now() });
		let done = 0;
		for (let n = 0; ; n++) {
			signal.throwIfAborted();
			const piece = await this.#db.fileChunks.get([body.fileId, n]);
			if (!piece) break;
			const bytes = openWithKey(piece.sealed.ciphertext, piece.sealed.nonce, this.#localKey);
			await target.write(bytes);
			done += bytes.length;
			progress(done, body.size);
		}
		if (done !== body.size) {
			await this.#forgetCopy(body.fileId);
			throw new FileIntegrityError('truncated', 'FileDownloads: the offline copy is incomplete');
		}
	}

	async #forgetCopy(fileId: string): Promise<void> {
		await this.#db.transaction('rw', this.#db.fileCopies, this.#db.fileChunks, async () => {
			await this.#db.fileCopies.delete(fileId);
			await this.#db.fileChunks.where('[fileId+n]').between([fileId, 0], [fileId, Infinity]).delete();
		});
	}

	/** Forgets the copies of files whose message was removed or deleted for everyone, and unfinished ones. */
	async sweep(): Promise<void> {
		const copies = await this.#db.fileCopies.toArray();
		const rows = await this.#db.messages.bulkGet(copies.map((copy) => copy.messageId));
		for (const [i, copy] of copies.entries()) {
			const unfinished = !copy.complete && !this.#running.has(copy.messageId);
			if (!rows[i]?.file || unfinished) await this.#forgetCopy(copy.fileId);
		}
	}

	/** Drops the oldest opened copies (never `keep`) until all of them fit OFFLINE_TOTAL_MAX_BYTES. */
	async #evict(keep: string): Promise<void> {
		const copies = await this.#db.fileCopies.orderBy('at').toArray();
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
	return { phase: 'failed', doneBytes: 0, totalBytes: 0, error, purpose };
}
