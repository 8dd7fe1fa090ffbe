import { z } from './zod';
import { EpochMs, MessageId, Username, b64Bytes, b64Range } from './common';
import { FileId } from './files';
import { LIMITS } from './limits';

export const TextBody = z.strictObject({
	type: z.literal('text'),
	text: z.string().min(1).max(LIMITS.textMaxChars),
});
export type TextBody = z.infer<typeof TextBody>;

/**
 * Sent to yourself (`to` = your own name), so every device of the account learns it: the
 * conversation with `peer` is read up to `upTo`, the place (hub time, `orderOf`) of the newest
 * message read there. Markers only move forward; an older one changes nothing.
 */
export const ReadMarkerBody = z.strictObject({
	type: z.literal('read'),
	peer: Username,
	upTo: EpochMs,
});

/** Sent to the peer, only while the reader's read receipts are on: these of your messages were read. */
export const ReadReceiptBody = z.strictObject({
	type: z.literal('read-receipt'),
	ids: z.array(MessageId).min(1).max(LIMITS.readReceiptIdsMax),
});

/** Sent to yourself: read receipts on or off for the account (the newest by hub time wins). */
export const ReceiptsSettingBody = z.strictObject({
	type: z.literal('receipts-setting'),
	on: z.boolean(),
});

/** Sent to the peer: the conversation's disappearing timer from now on (null: off); shown to both as a line. */
export const TimerBody = z.strictObject({
	type: z.literal('timer'),
	expiresAfterMs: z.number().int().min(1).max(LIMITS.disappearingMaxMs).nullable(),
});

/** Sent to yourself: every device of the account forgets this message (delete for me). */
export const ForgetBody = z.strictObject({
	type: z.literal('forget'),
	id: MessageId,
});

/** Bodies of envelopes of kind `control`: device and peer signalling, never a message to show. */
export const ControlBody = z.discriminatedUnion('type', [
	ReadMarkerBody,
	ReadReceiptBody,
	ReceiptsSettingBody,
	TimerBody,
	ForgetBody,
]);
export type ControlBody = z.infer<typeof ControlBody>;

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
	TextBody,
	ReadMarkerBody,
	ReadReceiptBody,
	ReceiptsSettingBody,
	TimerBody,
	ForgetBody,
	FileBody,
]);
export type MessageBody = z.infer<typeof MessageBody>;

/** True for a body that belongs in a `control` envelope (anything but a text or a file). */
export function isControlBody(body: MessageBody): body is ControlBody {
	return body.type !== 'text' && body.type !== 'file';
}
