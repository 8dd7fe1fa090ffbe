import { equalBytes, sodiumSync, type Sodium } from './sodium';

/** libsodium's handle on a running state (secretstream, generichash). */
type State = Parameters<Sodium['crypto_generichash_update']>[0];

/**
 * Files: crypto_secretstream_xchacha20poly1305 over fixed-size plaintext chunks under a fresh key
 * per file. Ciphertext chunk i is the secretstream message of plaintext chunk i; chunk 0 starts with
 * the stream's 24-byte header. The last chunk carries the FINAL tag (an empty file is one empty
 * FINAL chunk), so a truncated stream is told from a whole one; secretstream's running nonce makes a
 * reordered, dropped or altered chunk fail to open. A BLAKE2b-256 of the plaintext, carried beside
 * the key in the E2E message, is checked once the last chunk is opened.
 */

/** Plaintext bytes per chunk unless the sender chose otherwise (the file message carries its choice). */
export const FILE_CHUNK_BYTES = 256 * 1024;
export const FILE_KEY_BYTES = 32;
export const FILE_HASH_BYTES = 32;
export const FILE_HEADER_BYTES = 24;
/** What secretstream adds to each chunk: a tag byte and a 16-byte MAC. */
export const FILE_CHUNK_OVERHEAD = 17;

export function newFileKey(): Uint8Array {
	return sodiumSync().crypto_secretstream_xchacha20poly1305_keygen();
}

/** The ciphertext that a file of `size` plaintext bytes makes, chunk by chunk. */
export interface FileLayout {
	chunkCount: number;
	ciphertextBytes: number;
	/** Bytes of ciphertext chunk `index`. */
	chunkBytes(index: number): number;
}

export function fileLayout(size: number, chunkSize: number): FileLayout {
	if (!Number.isSafeInteger(size) || size < 0) throw new Error('fileLayout: bad size');
	if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new Error('fileLayout: bad chunk size');
	const chunkCount = Math.max(1, Math.ceil(size / chunkSize));
	const lastPlain = size - (chunkCount - 1) * chunkSize;
	return {
		chunkCount,
		ciphertextBytes: size + FILE_HEADER_BYTES + chunkCount * FILE_CHUNK_OVERHEAD,
		chunkBytes(index) {
			if (!Number.isInteger(index) || index < 0 || index >= chunkCount) {
				throw new Error('fileLayout: chunk index out of range');
			}
			const plain = index === chunkCount - 1 ? lastPlain : chunkSize;
			return plain + FILE_CHUNK_OVERHEAD + (index === 0 ? FILE_HEADER_BYTES : 0);
		},
	};
}

/** What the sender learns once the last chunk is sealed, for the file message. */
export interface SealedFileSummary {
	size: number;
	hash: Uint8Array;
}

/**
 * Seals a file chunk by chunk. Given the `header` of an earlier run with the same key, it makes the
 * very same ciphertext again: an interrupted upload resumes by sealing from the start and sending
 * only the chunks the hub lacks. (A pull state is a push state: libsodium derives both alike from
 * key and header.)
 */
export class FileSealer {
	readonly header: Uint8Array;
	readonly #state: State;
	readonly #hash: State;
	#size = 0;
	#index = 0;
	#done = false;

	constructor(
		readonly key: Uint8Array,
		header?: Uint8Array,
	) {
		const s = sodiumSync();
		if (key.length !== FILE_KEY_BYTES) throw new Error('FileSealer: the key has 32 bytes');
		if (header) {
			if (header.length !== FILE_HEADER_BYTES) throw new Error('FileSealer: the header has 24 bytes');
			this.header = header;
			this.#state = s.crypto_secretstream_xchacha20poly1305_init_pull(header, key);
		} else {
			const init = s.crypto_secretstream_xchacha20poly1305_init_push(key);
			this.header = init.header;
			this.#state = init.state;
		}
		this.#hash = s.crypto_generichash_init(null, FILE_HASH_BYTES);
	}

	/** Seals the next plaintext chunk; `last` marks the end of the file. */
	push(plaintext: Uint8Array, last: boolean): Uint8Array {
		if (this.#done) throw new Error('FileSealer.push: the file is finished');
		const s = sodiumSync();
		const tag = last
			? s.crypto_secretstream_xchacha20poly1305_TAG_FINAL
			: s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
		const sealed = s.crypto_secretstream_xchacha20poly1305_push(this.#state, plaintext, null, tag);
		s.crypto_generichash_update(this.#hash, plaintext);
		this.#size += plaintext.length;
		this.#done = last;
		const first = this.#index === 0;
		this.#index += 1;
		if (!first) return sealed;
		const out = new Uint8Array(FILE_HEADER_BYTES + sealed.length);
		out.set(this.header);
		out.set(sealed, FILE_HEADER_BYTES);
		return out;
	}

	/** Size and hash of the plaintext, once the last chunk is sealed. */
	summary(): SealedFileSummary {
		if (!this.#done) throw new Error('FileSealer.summary: the last chunk is not sealed yet');
		const s = sodiumSync();
		return { size: this.#size, hash: s.crypto_generichash_final(this.#hash, FILE_HASH_BYTES) };
	}
}

/** Why a file was refused: it is never handed on, in part or whole, as if it were good. */
export class FileIntegrityError extends Error {
	constructor(
		readonly reason: 'altered' | 'truncated' | 'trailing' | 'size' | 'hash',
		message: string,
	) {
		super(message);
		this.name = 'FileIntegrityError';
	}
}

/**
 * Opens a file chunk by chunk and checks it whole at the end: `finish()` throws unless the FINAL
 * chunk was seen, the size is the announced one and the hash matches. A chunk that does not open
 * (altered, reordered, dropped before it, from another file) throws at once.
 */
export class FileOpener {
	#state: State | null = null;
	readonly #hash: State;
	#size = 0;
	#done = false;

	constructor(
		readonly key: Uint8Array,
		readonly expected: { size: number; hash: Uint8Array },
	) {
		if (key.length !== FILE_KEY_BYTES) throw new Error('FileOpener: the key has 32 bytes');
		this.#hash = sodiumSync().crypto_generichash_init(null, FILE_HASH_BYTES);
	}

	/** Opens the next ciphertext chunk and returns its plaintext. */
	pull(chunk: Uint8Array): Uint8Array {
		const s = sodiumSync();
		if (this.#done) throw new FileIntegrityError('trailing', 'FileOpener.pull: data after the last chunk');
		let body = chunk;
		if (this.#state === null) {
			if (chunk.length < FILE_HEADER_BYTES + FILE_CHUNK_OVERHEAD) {
				throw new FileIntegrityError('truncated', 'FileOpener.pull: the first chunk is too short');
			}
			this.#state = s.crypto_secretstream_xchacha20poly1305_init_pull(
				chunk.subarray(0, FILE_HEADER_BYTES),
				this.key,
			);
			body = chunk.subarray(FILE_HEADER_BYTES);
		}
		const opened = s.crypto_secretstream_xchacha20poly1305_pull(this.#state, body, null) as
			{ message: Uint8Array; tag: number } | false;
		if (!opened) throw new FileIntegrityError('altered', 'FileOpener.pull: a chunk does not open');
		if (opened.tag === s.crypto_secretstream_xchacha20poly1305_TAG_FINAL) this.#done = true;
		else if (opened.tag !== s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
			throw new FileIntegrityError('altered', 'FileOpener.pull: an unexpected tag');
		}
		this.#size += opened.message.length;
		if (this.#size > this.expected.size) {
			throw new FileIntegrityError('size', 'FileOpener.pull: more bytes than announced');
		}
		s.crypto_generichash_update(this.#hash, opened.message);
		return opened.message;
	}

	/** Throws unless the file ended with its FINAL chunk, at the announced size, with the announced hash. */
	finish(): void {
		if (!this.#done)
			throw new FileIntegrityError('truncated', 'FileOpener.finish: the last chunk is missing');
		if (this.#size !== this.expected.size) {
			throw new FileIntegrityError('size', 'FileOpener.finish: not the announced size');
		}
		const hash = sodiumSync().crypto_generichash_final(this.#hash, FILE_HASH_BYTES);
		if (!equalBytes(hash, this.expected.hash)) {
			throw new FileIntegrityError('hash', 'FileOpener.finish: the hash does not match');
		}
	}
}

/**
 * Cuts a byte stream into plaintext chunks of exactly `chunkSize` (the last may be shorter), each
 * with `last` set on the final one. An empty source gives one empty last chunk.
 */
export async function* fileChunks(
	source: AsyncIterable<Uint8Array>,
	chunkSize: number,
): AsyncGenerator<{ plaintext: Uint8Array; last: boolean }> {
	let buffer = new Uint8Array(chunkSize);
	let filled = 0;
	let pending: Uint8Array | null = null;
	for await (const piece of source) {
		let offset = 0;
		while (offset < piece.length) {
			if (filled === chunkSize) {
				// A full chunk is held back until more bytes show it is not the last.
				if (pending) yield { plaintext: pending, last: false };
				pending = buffer;
				buffer = new Uint8Array(chunkSize);
				filled = 0;
			}
			const take = Math.min(chunkSize - filled, piece.length - offset);
			buffer.set(piece.subarray(offset, offset + take), filled);
			filled += take;
			offset += take;
		}
	}
	if (filled === 0 && pending) {
		yield { plaintext: pending, last: true };
		return;
	}
	if (pending) yield { plaintext: pending, last: false };
	yield { plaintext: buffer.subarray(0, filled), last: true };
}

/** Seals a whole byte stream: the ciphertext chunks in order, then the summary from `sealer.summary()`. */
export async function* sealFile(
	source: AsyncIterable<Uint8Array>,
	sealer: FileSealer,
	chunkSize: number,
): AsyncGenerator<Uint8Array> {
	for await (const { plaintext, last } of fileChunks(source, chunkSize)) yield sealer.push(plaintext, last);
}

/** Opens ciphertext chunks in order into plaintext; throws FileIntegrityError at the first bad one or at a bad end. */
export async function* openFile(
	chunks: AsyncIterable<Uint8Array>,
	opener: FileOpener,
): AsyncGenerator<Uint8Array> {
	for await (const chunk of chunks) yield opener.pull(chunk);
	opener.finish();
}
