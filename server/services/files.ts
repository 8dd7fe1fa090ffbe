import { randomBytes } from 'node:crypto';
import {
	ProtocolError,
	chunkRanges,
	type Envelope,
	type FileCreateRequest,
	type FileStatus,
} from '../../src/lib/protocol';
import type { HubConfig } from '../config';
import type { FileRecord, Store } from '../store';
import { audienceOf } from './messages';
import type { QuotaService } from './quota';

/** Room a chunk may take beyond the plain bytes it stands for (secretstream's header and tag, with margin). */
const CHUNK_SLACK_BYTES = 64;

const NOT_FOUND = () => new ProtocolError('NOT_FOUND', 'No such file.');

/**
 * Encrypted files: uploads in chunks, resumable and idempotent, and who may read them. The hub
 * holds ciphertext only. Before an envelope references a file only its uploader sees it; then its
 * sender always, and its recipient once the envelope is deliverable (never while it is time-locked,
 * never once cancelled). Every refusal of a read is the same NOT_FOUND, whether the file does not
 * exist, is someone else's or is still locked, so an id tells a stranger nothing.
 */
export class FileService {
	constructor(
		private readonly store: Store,
		private readonly config: HubConfig,
		private readonly now: () => number,
		private readonly quota: QuotaService,
	) {}

	/** Starts an upload for `owner` after checking the size limit and their stored-bytes quota. */
	async create(owner: string, request: FileCreateRequest): Promise<FileStatus> {
		if (request.size > this.config.files.maxBytes) {
			throw new ProtocolError(
				'PAYLOAD_TOO_LARGE',
				`A file may have at most ${this.config.files.maxBytes} bytes of ciphertext on this hub.`,
			);
		}
		// Declared chunks must add up to about the declared size: stored bytes stay within the quota.
		const bound = request.size + request.chunks * CHUNK_SLACK_BYTES + request.chunkBytes;
		if (request.chunks * request.chunkBytes > bound) {
			throw new ProtocolError('BAD_REQUEST', 'The chunks declared are larger than the file.');
		}
		const file: FileRecord = {
			id: randomBytes(16).toString('base64url'),
			owner,
			size: request.size,
			chunks: request.chunks,
			chunkBytes: request.chunkBytes,
			createdAt: this.now(),
			finishedAt: null,
			envelopeId: null,
			to: null,
		};
		await this.quota.chargedFile(owner, file.size, () => this.store.files.create(file));
		return { fileId: file.id, size: file.size, chunks: file.chunks, received: [], finished: false };
	}

	/** What an upload holds, for its owner: an interrupted upload sends only what is missing. */
	async status(user: string, id: string): Promise<FileStatus> {
		const file = await this.#owned(user, id);
		const parts = await this.store.files.parts(id);
		return {
			fileId: id,
			size: file.size,
			chunks: file.chunks,
			received: chunkRanges(parts.map((p) => p.n)),
			finished: file.finishedAt !== null,
		};
	}

	/** Stores chunk `n` of the owner's upload. A resend of a stored chunk is accepted and changes nothing. */
	async putChunk(user: string, id: string, n: number, data: Uint8Array): Promise<void> {
		const file = await this.#owned(user, id);
		if (n >= file.chunks) {
			throw new ProtocolError('BAD_REQUEST', `This file has ${file.chunks} chunks: ${n} is out of range.`);
		}
		if (data.length === 0) throw new ProtocolError('BAD_REQUEST', 'A chunk has at least one byte.');
		if (data.length > file.chunkBytes) {
			throw new ProtocolError(
				'PAYLOAD_TOO_LARGE',
				`A chunk of this file has at most ${file.chunkBytes} bytes.`,
			);
		}
		const stored = await this.store.files.putChunk(id, n, data);
		if (stored !== data.length) {
			throw new ProtocolError('ID_CONFLICT', `Chunk ${n} is stored already, with other bytes.`);
		}
	}

	/** Closes an upload once every chunk is stored and they add up to the declared size. */
	async finish(user: string, id: string): Promise<FileStatus> {
		const file = await this.#owned(user, id);
		const parts = await this.store.files.parts(id);
		const received = chunkRanges(parts.map((p) => p.n));
		const bytes = parts.reduce((sum, p) => sum + p.bytes, 0);
		if (parts.length !== file.chunks) {
			throw new ProtocolError(
				'FILE_INCOMPLETE',
				`${file.chunks - parts.length} of ${file.chunks} chunks are still missing.`,
			);
		}
		if (bytes !== file.size) {
			throw new ProtocolError(
				'FILE_INCOMPLETE',
				`The chunks have ${bytes} bytes, not the ${file.size} declared.`,
			);
		}
		if (file.finishedAt === null) await this.store.files.finish(id, this.now());
		return { fileId: id, size: file.size, chunks: file.chunks, received, finished: true };
	}

	/**
	 * Called by the send path before an envelope with a `fileId` is stored: the file must be the
	 * sender's, finished, and carried by no other envelope. A resend of the same envelope passes.
	 */
	async attach(sender: string, envelope: Envelope): Promise<void> {
		if (envelope.fileId === undefined) return;
		const file = await this.store.files.get(envelope.fileId);
		if (!file || file.owner !== sender) throw NOT_FOUND();
		if (file.finishedAt === null) {
			throw new ProtocolError('FILE_INCOMPLETE', 'Finish the upload before sending the file.');
		}
		if (file.envelopeId === envelope.id) return;
		const holder = await this.store.files.attach(file.id, sender, envelope.id, envelope.to);
		if (holder !== envelope.id) {
			throw new ProtocolError('ID_CONFLICT', 'This file is sent in another message already.');
		}
	}

	/** The file, when `user` may read it; NOT_FOUND otherwise, whatever the reason. */
	async readable(user: string, id: string): Promise<FileRecord> {
		const file = await this.store.files.get(id);
		if (!file || file.finishedAt === null) throw NOT_FOUND();
		if (file.owner === user) return file;
		if (file.to !== user || file.envelopeId === null) throw NOT_FOUND();
		const envelope = await this.store.envelopes.get(file.envelopeId);
		if (!envelope || envelope.to !== user || envelope.fileId !== id || !audienceOf(envelope).recipient) {
			throw NOT_FOUND();
		}
		return file;
	}

	/** One chunk's ciphertext, for a reader. */
	async chunk(user: string, id: string, n: number): Promise<Uint8Array> {
		const file = await this.readable(user, id);
		if (n >= file.chunks) throw NOT_FOUND();
		const data = await this.store.files.chunk(id, n);
		if (!data) throw NOT_FOUND();
		return data;
	}

	/**
	 * The file's ciphertext from chunk `from` to its end, one chunk read at a time as the reader
	 * takes them (never the whole file in memory). Access is checked once, before the first byte.
	 */
	async content(
		user: string,
		id: string,
		from: number,
	): Promise<{ file: FileRecord; chunks: AsyncIterable<Uint8Array> }> {
		const file = await this.readable(user, id);
		if (from >= file.chunks) throw new ProtocolError('BAD_REQUEST', `This file has ${file.chunks} chunks.`);
		const store = this.store;
		async function* chunks(): AsyncGenerator<Uint8Array> {
			for (let n = from; n < file.chunks; n++) {
				const data = await store.files.chunk(id, n);
				// Deleted while it streamed (retention, account deletion): the reader sees a short stream.
				if (!data) return;
				yield data;
			}
		}
		return { file, chunks: chunks() };
	}

	/** Deletes uploads that no envelope referenced within FILE_ABANDON_HOURS. */
	async sweepAbandoned(batch: number): Promise<number> {
		const before = this.now() - this.config.files.abandonMs;
		let swept = 0;
		for (;;) {
			const ids = await this.store.files.unattachedBefore(before, batch);
			await this.store.files.deleteFiles(ids);
			swept += ids.length;
			if (ids.length < batch) return swept;
		}
	}

	async #owned(user: string, id: string): Promise<FileRecord> {
		const file = await this.store.files.get(id);
		if (!file || file.owner !== user) throw NOT_FOUND();
		return file;
	}
}
