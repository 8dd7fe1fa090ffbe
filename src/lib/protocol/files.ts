import { z } from './zod';
import { b64Bytes } from './common';
import { LIMITS } from './limits';

/** A file's id on the hub: 16 random bytes made by the hub when the upload is created. */
export const FileId = b64Bytes(16);

/** A chunk's index in a file, from a route's path (text) or a body (a number). */
export const ChunkIndex = z.coerce
	.number()
	.int()
	.min(0)
	.max(LIMITS.fileChunksMax - 1);

/**
 * A new upload: the whole ciphertext's size and its number of chunks, declared up front so the hub
 * can refuse a file over its size limit or its owner's quota before a byte is sent.
 */
export const FileCreateRequest = z
	.strictObject({
		size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
		chunks: z.number().int().min(1).max(LIMITS.fileChunksMax),
		/** The largest chunk of this file (the first: it carries the stream's header). */
		chunkBytes: z.number().int().min(1).max(LIMITS.fileChunkMaxBytes),
	})
	.refine((r) => r.chunks <= r.size && r.size <= r.chunks * r.chunkBytes, {
		message: 'the chunks cannot add up to the size',
	});
export type FileCreateRequest = z.infer<typeof FileCreateRequest>;

/** Chunks the hub holds, as half-open ranges `[start, end)` of indexes, in order. */
export const ChunkRanges = z.array(z.tuple([ChunkIndex, z.number().int().min(1).max(LIMITS.fileChunksMax)]));
export type ChunkRanges = z.infer<typeof ChunkRanges>;

/** An upload as its owner sees it: what the hub holds, so an interrupted upload sends only the rest. */
export const FileStatus = z.strictObject({
	fileId: FileId,
	size: z.number().int().min(1),
	chunks: z.number().int().min(1).max(LIMITS.fileChunksMax),
	received: ChunkRanges,
	finished: z.boolean(),
});
export type FileStatus = z.infer<typeof FileStatus>;

export const FileParams = z.strictObject({ id: FileId });
export const FileChunkParams = z.strictObject({ id: FileId, n: ChunkIndex });
/** Streams the file from chunk `from` (default 0) to its end: a download resumes where it stopped. */
export const FileContentQuery = z.strictObject({ from: ChunkIndex.optional() });

/** The media type of chunk uploads and downloads: raw ciphertext bytes. */
export const FILE_CONTENT_TYPE = 'application/octet-stream';

/** Turns sorted chunk indexes into ranges `[start, end)`. */
export function chunkRanges(indexes: Iterable<number>): ChunkRanges {
	const ranges: ChunkRanges = [];
	for (const n of [...indexes].sort((a, b) => a - b)) {
		const last = ranges.at(-1);
		if (last && last[1] === n) last[1] = n + 1;
		else if (!last || last[1] < n) ranges.push([n, n + 1]);
	}
	return ranges;
}

/** Whether `ranges` hold chunk `n`. */
export function hasChunk(ranges: ChunkRanges, n: number): boolean {
	return ranges.some(([start, end]) => n >= start && n < end);
}
