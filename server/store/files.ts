import type { mongo } from 'mongoose';
import { isDuplicateKey, type FileChunkDoc, type FileDoc, type FilePartDoc, type Models } from './models';

/** An upload as the hub keeps it (never its key or name: those are in the envelope's ciphertext). */
export interface FileRecord {
	id: string;
	owner: string;
	size: number;
	chunks: number;
	chunkBytes: number;
	createdAt: number;
	finishedAt: number | null;
	/** The envelope that carries the file, and its recipient; null until one does. */
	envelopeId: string | null;
	to: string | null;
}

export interface FilesRepo {
	create(file: FileRecord): Promise<void>;
	get(id: string): Promise<FileRecord | null>;
	/** The chunks stored for the file: index and size, in any order. */
	parts(id: string): Promise<{ n: number; bytes: number }[]>;
	/**
	 * Stores chunk `n` once: a resend keeps the first copy. Returns the size of the copy that stands,
	 * so the caller can tell a resend of the same chunk from a different one.
	 */
	putChunk(id: string, n: number, data: Uint8Array): Promise<number>;
	/** Chunk `n`'s ciphertext, or null. One `_id` lookup. */
	chunk(id: string, n: number): Promise<Uint8Array | null>;
	finish(id: string, at: number): Promise<void>;
	/**
	 * Marks the file as carried by `envelopeId` (to `to`) when no other envelope does; says which
	 * envelope carries it afterwards (null: no such file of `owner`).
	 */
	attach(id: string, owner: string, envelopeId: string, to: string): Promise<string | null>;
	/** Files never referenced by an envelope, created before `before`: abandoned uploads. */
	unattachedBefore(before: number, limit: number): Promise<string[]>;
	/** Deletes files with their chunks. */
	deleteFiles(ids: string[]): Promise<void>;
	/**
	 * Deletes the files carried by these envelopes (retention, account deletion; and delete for
	 * everyone or a disappearing timer once those exist). Returns how many files went.
	 */
	deleteFilesOf(envelopeIds: string[]): Promise<number>;
	/**
	 * What a deleted account leaves: files sent to it, and files it uploaded that no envelope it sent
	 * still carries (unattached, or carried by one of `removedEnvelopeIds`). Files carried by its
	 * delivered messages stay with them: those are the recipients' now.
	 */
	deleteForAccount(username: string, removedEnvelopeIds: string[]): Promise<void>;
}

export function filesRepo(models: Models): FilesRepo {
	const { files, fileChunks, fileParts } = models;
	// The driver directly for chunks: raw bytes in and out, no casting of a 1 MiB Buffer by mongoose.
	const chunks = fileChunks.collection as unknown as mongo.Collection<FileChunkDoc>;
	const parts = fileParts.collection as unknown as mongo.Collection<FilePartDoc>;
	const chunkId = (id: string, n: number) => `${id}:${n}`;
	const insertOnce = async (insert: () => Promise<unknown>) => {
		try {
			await insert();
		} catch (error) {
			if (!isDuplicateKey(error)) throw error;
		}
	};
	const deleteFiles = async (ids: string[]) => {
		for (const id of ids) {
			// Equality on the file, which the embedded engine sends down to its index; the upload last,
			// so a crash in between leaves a record that the next sweep finds again.
			await chunks.deleteMany({ fileId: id });
			await parts.deleteMany({ fileId: id });
			await files.deleteOne({ _id: id });
		}
	};
	return {
		async create(file) {
			await files.create(toDoc(file));
		},
		async get(id) {
			const doc = await files.findById(id).lean<FileDoc>();
			return doc ? toRecord(doc) : null;
		},
		async parts(id) {
			const docs = await parts.find({ fileId: id }, { projection: { _id: 0, n: 1, bytes: 1 } }).toArray();
			return docs.map((d) => ({ n: d.n, bytes: d.bytes }));
		},
		async putChunk(id, n, data) {
			const _id = chunkId(id, n);
			let bytes = data.length;
			try {
				await chunks.insertOne({ _id, fileId: id, n, data: asBuffer(data) });
			} catch (error) {
				if (!isDuplicateKey(error)) throw error;
				// Stored before (a resend, or an earlier try that died before its part): that copy stands.
				const held = await chunks.findOne({ _id });
				if (held) bytes = bytesOf(held.data).length;
			}
			const stored = await parts.findOne({ _id });
			if (stored) return stored.bytes;
			await insertOnce(() => parts.insertOne({ _id, fileId: id, n, bytes }));
			return bytes;
		},
		async chunk(id, n) {
			const doc = await chunks.findOne({ _id: chunkId(id, n) });
			return doc ? bytesOf(doc.data) : null;
		},
		async finish(id, at) {
			await files.updateOne({ _id: id, finishedAt: null }, { $set: { finishedAt: at } });
		},
		async attach(id, owner, envelopeId, to) {
			await files.updateOne({ _id: id, owner, envelopeId: null }, { $set: { envelopeId, to } });
			const doc = await files.findById(id).lean<FileDoc>();
			return doc && doc.owner === owner ? doc.envelopeId : null;
		},
		async unattachedBefore(before, limit) {
			const docs = await files
				.find({ envelopeId: null, createdAt: { $lt: before } }, { _id: 1 })
				.limit(limit)
				.lean<Pick<FileDoc, '_id'>[]>();
			return docs.map((d) => d._id);
		},
		deleteFiles,
		async deleteFilesOf(envelopeIds) {
			if (envelopeIds.length === 0) return 0;
			const docs = await files
				.find({ envelopeId: { $in: envelopeIds } }, { _id: 1 })
				.lean<Pick<FileDoc, '_id'>[]>();
			await deleteFiles(docs.map((d) => d._id));
			return docs.length;
		},
		async deleteForAccount(username, removedEnvelopeIds) {
			const removed = new Set(removedEnvelopeIds);
			const [received, owned] = await Promise.all([
				files.find({ to: username }, { _id: 1 }).lean<Pick<FileDoc, '_id'>[]>(),
				files
					.find({ owner: username }, { _id: 1, envelopeId: 1 })
					.lean<Pick<FileDoc, '_id' | 'envelopeId'>[]>(),
			]);
			const ids = new Set(received.map((d) => d._id));
			for (const d of owned) if (d.envelopeId === null || removed.has(d.envelopeId)) ids.add(d._id);
			await deleteFiles([...ids]);
		},
	};
}

/** A Buffer over the same memory (the REST layer hands a Buffer already: no copy of a chunk). */
function asBuffer(data: Uint8Array): Buffer {
	return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** The bytes of a stored chunk: the driver hands back a BSON Binary, read without a copy. */
function bytesOf(data: unknown): Uint8Array {
	return data instanceof Uint8Array ? data : (data as mongo.Binary).buffer;
}

function toDoc(f: FileRecord): FileDoc {
	return {
		_id: f.id,
		owner: f.owner,
		size: f.size,
		chunks: f.chunks,
		chunkBytes: f.chunkBytes,
		createdAt: f.createdAt,
		finishedAt: f.finishedAt,
		envelopeId: f.envelopeId,
		to: f.to,
	};
}

function toRecord(doc: FileDoc): FileRecord {
	return {
		id: doc._id,
		owner: doc.owner,
		size: doc.size,
		chunks: doc.chunks,
		chunkBytes: doc.chunkBytes,
		createdAt: doc.createdAt,
		finishedAt: doc.finishedAt ?? null,
		envelopeId: doc.envelopeId ?? null,
		to: doc.to ?? null,
	};
}
