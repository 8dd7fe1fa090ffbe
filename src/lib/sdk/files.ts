import {
	FILE_CHUNK_BYTES,
	FileIntegrityError,
	FileOpener,
	FileSealer,
	fileChunks,
	fileLayout,
	fromB64,
	newFileKey,
	toB64,
} from '../crypto';
import { hasChunk, type ChunkRanges, type Envelope, type FileBody, type SendResult } from '../protocol';
import { ApiError } from './errors';
import type { HubApi } from './http';
import type { DecodedMessage, Messenger, SendOptions } from './messenger';

/**
 * What an interrupted download kept, to resume it, is forgotten after this long without a try:
 * the PWA's and the CLI's rule alike (the hub's own retention is 7 days after delivery by default).
 */
export const PAUSED_KEEP_MS = 7 * 24 * 3600 * 1000;

/** The bytes of a file to send: its size, and a way to read it from the start (again, to resume). */
export interface FileSource {
	size: number;
	/** Reads the file from its first byte; called once per upload attempt. */
	read(): AsyncIterable<Uint8Array>;
}

/**
 * What an upload needs to resume after a reload, a lost connection or a hub restart: keep it (the
 * PWA in IndexedDB, sealed like the history; the CLI beside its profile) until the message is sent.
 * It holds the file's key: never send it anywhere but inside the E2E message.
 */
export interface UploadState {
	fileId: string;
	key: string;
	header: string;
	size: number;
	chunkSize: number;
}

export interface TransferProgress {
	/** Ciphertext bytes sent or received so far (an upload that resumes starts at what the hub held). */
	doneBytes: number;
	totalBytes: number;
}

export interface UploadOptions {
	/** Plaintext bytes per chunk (default FILE_CHUNK_BYTES). */
	chunkSize?: number;
	/** An earlier upload of the same bytes to continue instead of starting a new one. */
	resume?: UploadState;
	/** Told once the upload exists on the hub, with what it takes to resume it. */
	onState?: (state: UploadState) => void | Promise<void>;
	onProgress?: (progress: TransferProgress) => void;
	/** Stops the upload; what was sent stays on the hub, for a resume, until it is swept. */
	signal?: AbortSignal;
	/** Chunks on the wire at once (default 8: the fastest for a plain client in bench/files.ts). */
	concurrency?: number;
}

/** A finished upload: the file message's fields but for its name and type. */
export interface UploadedFile {
	fileId: string;
	key: Uint8Array;
	size: number;
	chunkSize: number;
	hash: Uint8Array;
}

/**
 * Encrypts and uploads a file, a chunk at a time, a few chunks in flight: the file is never whole in
 * memory. With `resume`, it seals the same ciphertext again and sends only the chunks the hub lacks.
 */
export async function uploadFile(
	api: HubApi,
	source: FileSource,
	options: UploadOptions = {},
): Promise<UploadedFile> {
	const signal = options.signal;
	signal?.throwIfAborted();
	let state: UploadState;
	let sealer: FileSealer;
	let received: ChunkRanges = [];
	if (options.resume) {
		state = options.resume;
		if (state.size !== source.size) throw new Error('uploadFile: the file changed since the upload began');
		sealer = new FileSealer(fromB64(state.key), fromB64(state.header));
		const status = await api.fileStatus(state.fileId);
		received = status.received;
	} else {
		const chunkSize = options.chunkSize ?? FILE_CHUNK_BYTES;
		sealer = new FileSealer(newFileKey());
		const layout = fileLayout(source.size, chunkSize);
		const created = await api.createFile({
			size: layout.ciphertextBytes,
			chunks: layout.chunkCount,
			chunkBytes: layout.chunkBytes(0),
		});
		state = {
			fileId: created.fileId,
			key: toB64(sealer.key),
			header: toB64(sealer.header),
			size: source.size,
			chunkSize,
		};
	}
	await options.onState?.(state);
	const layout = fileLayout(state.size, state.chunkSize);
	let doneBytes = 0;
	for (let n = 0; n < layout.chunkCount; n++) if (hasChunk(received, n)) doneBytes += layout.chunkBytes(n);
	const report = () => options.onProgress?.({ doneBytes, totalBytes: layout.ciphertextBytes });
	report();

	const concurrency = Math.max(1, options.concurrency ?? 8);
	const inFlight = new Set<Promise<void>>();
	let failure: unknown = null;
	let n = 0;
	for await (const { plaintext, last } of fileChunks(source.read(), state.chunkSize)) {
		const index = n++;
		// Sealed even when the hub has it: each chunk's ciphertext follows from the ones before.
		const chunk = sealer.push(plaintext, last);
		if (hasChunk(received, index)) continue;
		if (failure) break;
		signal?.throwIfAborted();
		const put: Promise<void> = api
			.putFileChunk(state.fileId, index, chunk, signal)
			.then(() => {
				doneBytes += chunk.length;
				report();
			})
			.catch((error: unknown) => {
				failure ??= error;
			})
			.finally(() => inFlight.delete(put));
		inFlight.add(put);
		if (inFlight.size >= concurrency) await Promise.race(inFlight);
	}
	await Promise.all(inFlight);
	if (failure) throw failure;
	signal?.throwIfAborted();
	if (n !== layout.chunkCount) throw new Error('uploadFile: the file is not the size it said');
	const summary = sealer.summary();
	await api.finishFile(state.fileId);
	return {
		fileId: state.fileId,
		key: sealer.key,
		size: summary.size,
		chunkSize: state.chunkSize,
		hash: summary.hash,
	};
}

/** Where a download's plaintext goes: a Node stream in the CLI, a WritableStream's writer in a browser. */
export interface FileSink {
	write(bytes: Uint8Array): void | Promise<void>;
}

export interface DownloadOptions {
	onProgress?: (progress: TransferProgress) => void;
	signal?: AbortSignal;
	/**
	 * Times in a row a broken connection is picked up again from the next chunk (default 3), waiting
	 * 0.5, 1, 2 s… between tries, so that a hub briefly away (a restart) may answer again; a chunk
	 * that arrives starts the count again. Past them the download throws, and the caller's kept
	 * chunks let a later try resume.
	 */
	retries?: number;
	/** Told when the connection broke and the next try waits `waitMs`; progress resumes after it. */
	onRetry?: (waitMs: number, error: unknown) => void;
	/**
	 * The file's first ciphertext chunks, kept from an earlier attempt (the PWA keeps them in
	 * IndexedDB across a reload). A decryption state cannot be saved, so they are opened again
	 * through a fresh one, checked like the rest (a kept chunk altered is refused) and written to the
	 * sink; the hub is asked only for the chunks after them. Yield them in order, from the first.
	 */
	kept?: AsyncIterable<Uint8Array>;
	/** Told each ciphertext chunk the hub sent, once it opened and before its plaintext goes to the sink: to keep it for a resume. */
	onChunk?: (n: number, chunk: Uint8Array) => void | Promise<void>;
}

/**
 * Downloads, decrypts and checks a file into `sink`, a chunk at a time. Throws FileIntegrityError
 * (from the crypto module) when a chunk is altered, missing or out of order, or the size or hash is
 * not the announced one; the caller must then discard what the sink took (the CLI writes to a
 * temporary file and renames it only after this resolves). A connection lost mid-way resumes at
 * the next chunk (tests/integration/files.test.ts, "picks a download up at the next chunk"); after a
 * reload or a restart, the chunks kept through `onChunk` and given back as `kept` are not fetched
 * again ("resumes a download from the chunks it kept").
 */
export async function downloadFile(
	api: HubApi,
	file: FileBody,
	sink: FileSink,
	options: DownloadOptions = {},
): Promise<void> {
	const { signal } = options;
	const layout = fileLayout(file.size, file.chunkSize);
	const opener = new FileOpener(fromB64(file.key), { size: file.size, hash: fromB64(file.hash) });
	let next = 0;
	let doneBytes = 0;
	const patience = options.retries ?? 3;
	let retries = patience;
	let pause = RETRY_FIRST_MS;
	const report = () => options.onProgress?.({ doneBytes, totalBytes: layout.ciphertextBytes });
	const open = async (chunk: Uint8Array, fresh: boolean) => {
		if (chunk.length !== layout.chunkBytes(next)) {
			throw new FileIntegrityError('truncated', 'downloadFile: a chunk is not the size of its place');
		}
		const plaintext = opener.pull(chunk);
		if (fresh) await options.onChunk?.(next, chunk);
		await sink.write(plaintext);
		doneBytes += chunk.length;
		next += 1;
		retries = patience;
		pause = RETRY_FIRST_MS;
		report();
	};
	report();
	if (options.kept) {
		for await (const chunk of options.kept) {
			signal?.throwIfAborted();
			if (next >= layout.chunkCount)
				throw new FileIntegrityError('trailing', 'downloadFile: more kept chunks than the file has');
			await open(chunk, false);
		}
	}
	while (next < layout.chunkCount) {
		signal?.throwIfAborted();
		try {
			const stream = await api.fileContent(file.fileId, next, signal);
			for await (const chunk of cutChunks(stream, (n) => layout.chunkBytes(n), next, layout.chunkCount)) {
				await open(chunk, true);
			}
			// The stream ended before the last chunk: the hub lost it, or it was deleted.
			if (next < layout.chunkCount) break;
		} catch (error) {
			if (signal?.aborted) throw signal.reason;
			const broken =
				error instanceof TypeError || (error instanceof ApiError && error.code === 'UNAVAILABLE');
			if (!broken || retries-- <= 0) throw error;
			options.onRetry?.(pause, error);
			await delay(pause, signal);
			pause *= 2;
		}
	}
	opener.finish();
}

const RETRY_FIRST_MS = 500;

/** Waits `ms`, or throws the signal's reason as soon as it aborts. */
function delay(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) return reject(signal.reason as Error);
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', stop);
			resolve();
		}, ms);
		const stop = () => {
			clearTimeout(timer);
			reject(signal!.reason as Error);
		};
		signal?.addEventListener('abort', stop, { once: true });
	});
}

/** Cuts a byte stream into the file's ciphertext chunks, `sizeOf(n)` bytes each, from chunk `first`. */
async function* cutChunks(
	stream: ReadableStream<Uint8Array>,
	sizeOf: (n: number) => number,
	first: number,
	count: number,
): AsyncGenerator<Uint8Array> {
	const reader = stream.getReader();
	try {
		let n = first;
		let chunk = new Uint8Array(sizeOf(n));
		let filled = 0;
		for (;;) {
			const { done, value } = await reader.read();
			if (done) return;
			let offset = 0;
			while (offset < value.length) {
				const take = Math.min(chunk.length - filled, value.length - offset);
				chunk.set(value.subarray(offset, offset + take), filled);
				filled += take;
				offset += take;
				if (filled === chunk.length) {
					yield chunk;
					n += 1;
					// Done: whatever the stream would still say (an end, or a break) no longer matters.
					if (n >= count) return;
					chunk = new Uint8Array(sizeOf(n));
					filled = 0;
				}
			}
		}
	} finally {
		await reader.cancel().catch(() => undefined);
	}
}

export interface SendFileOptions extends SendOptions, Omit<UploadOptions, 'resume'> {
	resume?: UploadState;
	/** A small preview image (JPEG or PNG bytes), made by the sender. */
	thumbnail?: Uint8Array;
}

/**
 * Uploads a file and sends the message that carries its key, name, type, size and hash. The
 * envelope's time-lock (`unlockAt`) holds the file too: the recipient can read no chunk before it.
 */
export async function sendFile(
	messenger: Messenger,
	peer: string,
	source: FileSource & { name: string; mime: string },
	options: SendFileOptions = {},
): Promise<{ envelope: Envelope; result: SendResult; file: FileBody }> {
	const uploaded = await uploadFile(messenger.api, source, options);
	const file: FileBody = {
		type: 'file',
		fileId: uploaded.fileId,
		key: toB64(uploaded.key),
		name: source.name,
		mime: source.mime,
		size: uploaded.size,
		chunkSize: uploaded.chunkSize,
		hash: toB64(uploaded.hash),
		...(options.thumbnail ? { thumbnail: toB64(options.thumbnail) } : {}),
	};
	const envelope = await messenger.sealBody(peer, file, { ...options, fileId: uploaded.fileId });
	return { envelope, result: await messenger.sendEnvelope(envelope), file };
}

/** Downloads the file a received (or sent) file message carries into `sink`, checked. */
export async function readFile(
	messenger: Messenger,
	message: DecodedMessage,
	sink: FileSink,
	options: DownloadOptions = {},
): Promise<FileBody> {
	if (!message.file) throw new Error('readFile: this message carries no file');
	await downloadFile(messenger.api, message.file, sink, options);
	return message.file;
}
