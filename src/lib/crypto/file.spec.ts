import { beforeAll, describe, expect, it } from 'vitest';
import {
	FILE_CHUNK_OVERHEAD,
	FILE_HEADER_BYTES,
	FileIntegrityError,
	FileOpener,
	FileSealer,
	fileLayout,
	generateIdentity,
	newFileKey,
	openEnvelope,
	sealEnvelope,
	toB64,
	verifyEnvelope,
	openFile,
	ready,
	sealFile,
	sodiumSync,
} from './index';

const CHUNK = 1024;

beforeAll(async () => {
	await ready();
});

function bytes(length: number): Uint8Array {
	return sodiumSync().randombytes_buf(length);
}

/** A source that hands the bytes over in uneven pieces, as a network or a disk would. */
async function* pieces(data: Uint8Array, size = 333): AsyncGenerator<Uint8Array> {
	for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
	const out: Uint8Array[] = [];
	for await (const chunk of source) out.push(chunk);
	return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let offset = 0;
	for (const part of parts) {
		out.set(part, offset);
		offset += part.length;
	}
	return out;
}

async function seal(data: Uint8Array) {
	const key = newFileKey();
	const sealer = new FileSealer(key);
	const chunks = await collect(sealFile(pieces(data), sealer, CHUNK));
	return { key, sealer, chunks, summary: sealer.summary() };
}

async function open(
	chunks: Uint8Array[],
	key: Uint8Array,
	expected: { size: number; hash: Uint8Array },
): Promise<Uint8Array> {
	async function* source() {
		yield* chunks;
	}
	return concat(await collect(openFile(source(), new FileOpener(key, expected))));
}

async function refusal(promise: Promise<unknown>): Promise<string> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof FileIntegrityError) return error.reason;
		throw error;
	}
	throw new Error('the file was accepted');
}

describe('file encryption (secretstream)', () => {
	it('round-trips a file, chunk sizes as the layout says', async () => {
		const data = bytes(CHUNK * 3 + 100);
		const { key, chunks, summary } = await seal(data);
		const layout = fileLayout(data.length, CHUNK);
		expect(chunks.length).toBe(layout.chunkCount);
		expect(chunks.map((c) => c.length)).toEqual(chunks.map((_, i) => layout.chunkBytes(i)));
		expect(concat(chunks).length).toBe(layout.ciphertextBytes);
		expect(summary.size).toBe(data.length);
		expect(await open(chunks, key, summary)).toEqual(data);
	});

	it('round-trips an empty file as one FINAL chunk', async () => {
		const { key, chunks, summary } = await seal(new Uint8Array(0));
		expect(chunks.map((c) => c.length)).toEqual([FILE_HEADER_BYTES + FILE_CHUNK_OVERHEAD]);
		expect(fileLayout(0, CHUNK).ciphertextBytes).toBe(FILE_HEADER_BYTES + FILE_CHUNK_OVERHEAD);
		expect(await open(chunks, key, summary)).toEqual(new Uint8Array(0));
	});

	it('round-trips a file of an exact multiple of the chunk size without an empty chunk after it', async () => {
		const data = bytes(CHUNK * 4);
		const { key, chunks, summary } = await seal(data);
		expect(chunks.length).toBe(4);
		expect(fileLayout(data.length, CHUNK).chunkCount).toBe(4);
		expect(await open(chunks, key, summary)).toEqual(data);
	});

	it('seals the same ciphertext again from the same key and header (what resuming relies on)', async () => {
		const data = bytes(CHUNK * 2 + 7);
		const first = await seal(data);
		const again = new FileSealer(first.key, first.sealer.header);
		expect(await collect(sealFile(pieces(data, 100), again, CHUNK))).toEqual(first.chunks);
	});

	it('refuses an altered chunk', async () => {
		const data = bytes(CHUNK * 3);
		const { key, chunks, summary } = await seal(data);
		const altered = chunks.map((c) => c.slice());
		altered[1][10] ^= 1;
		expect(await refusal(open(altered, key, summary))).toBe('altered');
	});

	it('refuses reordered chunks', async () => {
		const { key, chunks, summary } = await seal(bytes(CHUNK * 3));
		expect(await refusal(open([chunks[0], chunks[2], chunks[1]], key, summary))).toBe('altered');
	});

	it('refuses a dropped chunk in the middle', async () => {
		const { key, chunks, summary } = await seal(bytes(CHUNK * 3));
		expect(await refusal(open([chunks[0], chunks[2]], key, summary))).toBe('altered');
	});

	it('refuses a file truncated before its FINAL chunk', async () => {
		const { key, chunks, summary } = await seal(bytes(CHUNK * 3));
		expect(await refusal(open(chunks.slice(0, 2), key, summary))).toBe('truncated');
		expect(await refusal(open([], key, summary))).toBe('truncated');
	});

	it('refuses a chunk after the FINAL one', async () => {
		const { key, chunks, summary } = await seal(bytes(CHUNK * 2));
		expect(await refusal(open([...chunks, chunks[1]], key, summary))).toBe('trailing');
	});

	it('refuses another key, a wrong hash and a wrong size', async () => {
		const { key, chunks, summary } = await seal(bytes(CHUNK + 1));
		expect(await refusal(open(chunks, newFileKey(), summary))).toBe('altered');
		const wrongHash = summary.hash.slice();
		wrongHash[0] ^= 1;
		expect(await refusal(open(chunks, key, { ...summary, hash: wrongHash }))).toBe('hash');
		expect(await refusal(open(chunks, key, { ...summary, size: summary.size + 1 }))).toBe('size');
		expect(await refusal(open(chunks, key, { ...summary, size: summary.size - 1 }))).toBe('size');
	});

	it('refuses a chunk from another file under the same key', async () => {
		const key = newFileKey();
		const a = await collect(sealFile(pieces(bytes(CHUNK * 2)), new FileSealer(key), CHUNK));
		const bSealer = new FileSealer(key);
		const b = await collect(sealFile(pieces(bytes(CHUNK * 2)), bSealer, CHUNK));
		expect(await refusal(open([a[0], b[1]], key, bSealer.summary()))).toBe('altered');
	});
});

describe('an envelope that carries a file', () => {
	it('signs its fileId: another file, or none, breaks the signature', () => {
		const alice = generateIdentity();
		const bob = generateIdentity();
		const fileId = toB64(bytes(16));
		const envelope = sealEnvelope(
			{
				from: 'alice',
				to: 'bob',
				fileId,
				body: {
					type: 'file',
					fileId,
					key: toB64(newFileKey()),
					name: 'notes.txt',
					mime: 'text/plain',
					size: 5,
					chunkSize: CHUNK,
					hash: toB64(bytes(32)),
				},
			},
			alice,
			bob.boxPk,
		);
		expect(envelope.fileId).toBe(fileId);
		expect(verifyEnvelope(envelope, alice.signPk)).toBe(true);
		const opened = openEnvelope(envelope, bob, 'bob', { signPk: alice.signPk, boxPk: alice.boxPk });
		expect(opened).toMatchObject({ ok: true, body: { type: 'file', name: 'notes.txt' } });
		const { fileId: _dropped, ...withoutFile } = envelope;
		expect(verifyEnvelope(withoutFile, alice.signPk)).toBe(false);
		expect(verifyEnvelope({ ...envelope, fileId: toB64(bytes(16)) }, alice.signPk)).toBe(false);
	});
});
