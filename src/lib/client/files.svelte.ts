import { t } from '../i18n';
import { toB64 } from '../crypto';
import type { FileBody } from '../protocol';
import { ApiError, uploadFile, type FileSource, type Messenger, type UploadState } from '../sdk';
import { openText, sealText, type AccountDb, type UploadRow } from './db';
import { makeThumbnail, isViewableImage } from './files-thumbnail';
import type { ComposeOptions, Outbox } from './outbox.svelte';
import { errorText } from './strings';

/** Wait before trying an upload again after the hub did not answer while the socket stayed up. */
const RETRY_MS = 5_000;

export type UploadPhase =
	/** Chunks are on their way. */
	| 'uploading'
	/** The hub is out of reach: it goes on by itself when the connection is back. */
	| 'waiting'
	/** Refused (quota, too large, a changed safety number): `error` says why; Retry tries again. */
	| 'failed';

/** A file being sent, as the conversation shows it below its messages. */
export interface UploadView {
	id: string;
	peer: string;
	name: string;
	mime: string;
	size: number;
	thumbnail: Uint8Array | null;
	unlockAt: number | null;
	phase: UploadPhase;
	/** Ciphertext bytes the hub holds, of `totalBytes` (0 of 0 before the upload exists). */
	doneBytes: number;
	totalBytes: number;
	error: string | null;
}

/**
 * Files leave through here: each is uploaded (encrypted a chunk at a time, read from the File as a
 * stream), then its message goes through the outbox like a text, with the same time-lock. Until
 * then the File and the resume state wait in IndexedDB, so a reload, a lost connection or a hub
 * restart continues the upload where the hub stopped receiving; a failure stays visible with Retry.
 */
export class FileUploads {
	#db: AccountDb;
	#messenger: Messenger;
	#outbox: Outbox;
	#localKey: Uint8Array;
	#connected: () => boolean;
	#views = $state.raw<UploadView[]>([]);
	/** Uploads running now, to cancel them. Not reactive. */
	#running = new Map<string, AbortController>(); // eslint-disable-line svelte/prefer-svelte-reactivity -- never read by a template
	#retryTimer: ReturnType<typeof setTimeout> | null = null;

	constructor(
		db: AccountDb,
		messenger: Messenger,
		outbox: Outbox,
		localKey: Uint8Array,
		connected: () => boolean,
	) {
		this.#db = db;
		this.#messenger = messenger;
		this.#outbox = outbox;
		this.#localKey = localKey;
		this.#connected = connected;
	}

	/** The files being sent to `peer`, oldest first. */
	of(peer: string): UploadView[] {
		return this.#views.filter((view) => view.peer === peer);
	}

	/** Shows what waited from before a reload; `resumeAll` (on connect) sends it on. */
	async load(): Promise<void> {
		const rows = await this.#db.uploads.toArray();
		this.#views = rows
			.sort((a, b) => a.createdAt - b.createdAt)
			.map((row) => ({ ...viewOf(row), phase: row.error ? 'failed' : 'waiting' }));
	}

	/** Stores the files for `peer` and starts sending them, each as its own message. */
	async attach(peer: string, files: File[], options: ComposeOptions, now: number): Promise<void> {
		for (const file of files) {
			const thumbnail = isViewableImage(file.type) ? await makeThumbnail(file) : null;
			const row: UploadRow = {
				id: crypto.randomUUID(),
				peer,
				name: file.name || 'file',
				mime: file.type,
				size: file.size,
				blob: file,
				thumbnail,
				unlockAt: options.unlockAt,
				announce: options.announce,
				createdAt: now,
				state: null,
				error: null,
			};
			await this.#db.uploads.add(row);
			this.#views = [...this.#views, { ...viewOf(row), phase: 'waiting' }];
			void this.#run(row.id);
		}
	}

	/** Starts every upload that waits for the hub (called when the connection is up). */
	resumeAll(): void {
		for (const view of this.#views) if (view.phase === 'waiting') void this.#run(view.id);
	}

	retry(id: string): void {
		void this.#run(id);
	}

	/** Stops an upload and forgets it; what reached the hub is swept there (FILE_ABANDON_HOURS). */
	async cancel(id: string): Promise<void> {
		this.#running.get(id)?.abort(new DOMException('Cancelled', 'AbortError'));
		this.#running.delete(id);
		await this.#db.uploads.delete(id);
		this.#views = this.#views.filter((view) => view.id !== id);
	}

	stop(): void {
		for (const controller of this.#running.values()) controller.abort();
		this.#running.clear();
		if (this.#retryTimer) clearTimeout(this.#retryTimer);
	}

	#patch(id: string, patch: Partial<UploadView>): void {
		this.#views = this.#views.map((view) => (view.id === id ? { ...view, ...patch } : view));
	}

	async #run(id: string): Promise<void> {
		if (this.#running.has(id)) return;
		const row = await this.#db.uploads.get(id);
		if (!row) return;
		const controller = new AbortController();
		this.#running.set(id, controller);
		this.#patch(id, { phase: 'uploading', error: null });
		await this.#db.uploads.update(id, { error: null });
		try {
			const resume = row.state ? (JSON.parse(openText(row.state, this.#localKey)) as UploadState) : undefined;
			const uploaded = await this.#upload(row, resume, controller.signal).catch(async (error: unknown) => {
				// The hub swept the unfinished upload (or lost it): start it again from nothing.
				if (resume && error instanceof ApiError && error.code === 'NOT_FOUND') {
					await this.#db.uploads.update(id, { state: null });
					return this.#upload(row, undefined, controller.signal);
				}
				throw error;
			});
			const file: FileBody = {
				type: 'file',
				fileId: uploaded.fileId,
				key: toB64(uploaded.key),
				name: row.name,
				mime: row.mime,
				size: uploaded.size,
				chunkSize: uploaded.chunkSize,
				hash: toB64(uploaded.hash),
				...(row.thumbnail ? { thumbnail: toB64(row.thumbnail) } : {}),
			};
			controller.signal.throwIfAborted();
			await this.#outbox.composeFile(row.peer, file, { unlockAt: row.unlockAt, announce: row.announce });
			await this.#db.uploads.delete(id);
			this.#views = this.#views.filter((view) => view.id !== id);
		} catch (error) {
			if (controller.signal.aborted) return;
			if (isUnreachable(error)) {
				this.#patch(id, { phase: 'waiting' });
				// The socket may stay up while a request failed: try again a little later too.
				this.#retryTimer ??= setTimeout(() => {
					this.#retryTimer = null;
					if (this.#connected()) this.resumeAll();
				}, RETRY_MS);
			} else {
				const message = uploadErrorText(error);
				await this.#db.uploads.update(id, { error: message });
				this.#patch(id, { phase: 'failed', error: message });
			}
		} finally {
			if (this.#running.get(id) === controller) this.#running.delete(id);
		}
	}

	#upload(row: UploadRow, resume: UploadState | undefined, signal: AbortSignal) {
		return uploadFile(this.#messenger.api, blobSource(row.blob), {
			resume,
			signal,
			onState: async (state) => {
				await this.#db.uploads.update(row.id, { state: sealText(JSON.stringify(state), this.#localKey) });
			},
			onProgress: ({ doneBytes, totalBytes }) => this.#patch(row.id, { doneBytes, totalBytes }),
		});
	}
}

/** Reads a File or Blob as a stream, from its first byte each time (never whole in memory). */
export function blobSource(blob: Blob): FileSource {
	return {
		size: blob.size,
		async *read() {
			const reader = blob.stream().getReader();
			try {
				for (;;) {
					const { done, value } = await reader.read();
					if (done) return;
					yield value;
				}
			} finally {
				reader.releaseLock();
			}
		},
	};
}

function viewOf(row: UploadRow): Omit<UploadView, 'phase'> {
	return {
		id: row.id,
		peer: row.peer,
		name: row.name,
		mime: row.mime,
		size: row.size,
		thumbnail: row.thumbnail,
		unlockAt: row.unlockAt,
		doneBytes: 0,
		totalBytes: 0,
		error: row.error,
	};
}

/** Why an upload was refused, in words about a file (the shared texts speak of messages). */
function uploadErrorText(error: unknown): string {
	if (error instanceof ApiError && error.code === 'PAYLOAD_TOO_LARGE') return t('upload.tooLarge');
	if (error instanceof ApiError && error.code === 'QUOTA_STORAGE') {
		return t('upload.quota');
	}
	return errorText(error, 'file');
}

/** A fetch that never reached the hub, or a hub that said it is unavailable: worth trying again. */
function isUnreachable(error: unknown): boolean {
	return error instanceof TypeError || (error instanceof ApiError && error.code === 'UNAVAILABLE');
}
