import { z } from './zod';
import { b64Bytes, b64Range } from './common';
import { FileId } from './files';
import { LIMITS } from './limits';

/**
 * A file's key and metadata, inside the E2E message that carries it (docs/PROTOCOL.md, "Files").
 * The hub stores only the ciphertext chunks under `fileId`.
 */
export const FileBody = z.strictObject({
	type: z.literal('file'),
	fileId: FileId,
	/** The secretstream key (32 bytes), fresh for this file. */
	key: b64Bytes(32),
	/** The file's name as the sender had it; receivers never use it as a path without checking it. */
	name: z.string().min(1).max(LIMITS.fileNameMaxChars),
	/** Its media type (`type` names the body's kind), informative only: never used to render it as HTML. */
	mime: z.string().max(255),
	/** Plaintext bytes. */
	size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
	/** Plaintext bytes per chunk (the last may be shorter). */
	chunkSize: z.number().int().min(1).max(LIMITS.fileChunkMaxPlainBytes),
	/** BLAKE2b-256 of the plaintext. */
	hash: b64Bytes(32),
	/** A small preview image (JPEG or PNG bytes), for images. */
	thumbnail: b64Range(1, LIMITS.thumbnailMaxBytes).optional(),
});
export type FileBody = z.infer<typeof FileBody>;

/**
 * The plaintext inside an envelope's ciphertext. Only the two ends ever see it;
 * the hub cannot parse it. Receivers validate it after decryption like any input.
 */
export const MessageBody = z.discriminatedUnion('type', [
	z.strictObject({
		type: z.literal('text'),
		text: z.string().min(1).max(LIMITS.textMaxChars),
	}),
	FileBody,
]);
export type MessageBody = z.infer<typeof MessageBody>;
