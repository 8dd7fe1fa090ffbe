import { mongo } from 'mongoose';
import { isDuplicateKey } from './models';

/**
 * How long the first document of a batch waits for others. A send's round trip to the database is
 * 1–20 ms here, so 2 ms adds little to one message's latency while a burst from many sockets
 * shares one round trip (one insert statement on the embedded engine, one command on MongoDB).
 */
export const BATCH_WINDOW_MS = 2;
/**
 * Most documents in one insertMany: a flush starts at once when a batch is this full. At 16 KB of
 * ciphertext per envelope this stays far below MongoDB's 48 MB message limit, and a batch that
 * fails fails at most this many sends.
 */
export const BATCH_MAX_DOCS = 256;
/**
 * Batches of one writer in flight at once. While one is being written, what arrives waits and goes
 * in the next, written as soon as one answers (group commit), so a burst makes few, large inserts.
 * Chosen on SQLite (a single writer, where more batches only queued inside it); on PostgreSQL,
 * 1 against 2 in `npm run bench`, three alternating runs each on a quiet machine, made no
 * difference beyond the noise (docs/OPERATIONS.md, "The relay path"), so it stays 1.
 */
export const BATCHES_IN_FLIGHT = 1;

/**
 * Inserts every document, unordered (one refused id does not stop the others), and returns the
 * positions in `docs` of those the unique _id refused (an id stored before, or earlier in `docs`). Any other failure is thrown: the caller cannot know which documents
 * were written and must read them back.
 */
export async function insertUnordered<D extends { _id: string }>(
	collection: mongo.Collection<D>,
	docs: D[],
): Promise<Set<number>> {
	try {
		await collection.insertMany(docs as mongo.OptionalUnlessRequiredId<D>[], { ordered: false });
		return new Set();
	} catch (error) {
		if (error instanceof mongo.MongoBulkWriteError) {
			const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
			const concern = error.result.getWriteConcernError();
			if (writeErrors.length > 0 && !concern && writeErrors.every((w) => w.code === 11000)) {
				return new Set(writeErrors.map((w) => w.index));
			}
		} else if (docs.length === 1 && isDuplicateKey(error)) {
			// A one-document batch may surface as a plain duplicate-key error.
			return new Set([0]);
		}
		throw error;
	}
}

interface Pending<D> {
	doc: D;
	settle: (stored: boolean) => void;
	fail: (error: unknown) => void;
}

/**
 * Groups the inserts into one collection that arrive within BATCH_WINDOW_MS, from any caller, into
 * one unordered insertMany. Each caller learns the outcome of its own document only once the
 * write answered: true when stored, false when the unique _id refused it (stored before, or by an
 * earlier document of the same batch), the error when the batch failed otherwise — then every
 * document of that batch is reported failed, since which of them were written is unknown.
 */
/** What a store waits for before it closes its connection. */
export interface Drainable {
	drain(): Promise<void>;
}

export class BatchWriter<D extends { _id: string }> implements Drainable {
	#pending: Pending<D>[] = [];
	#timer: NodeJS.Timeout | null = null;
	#inFlight = 0;
	/** Callers of drain() waiting for every pending document to be answered. */
	#drained: (() => void)[] = [];

	constructor(private readonly collection: mongo.Collection<D>) {}

	/**
	 * Resolves once every document inserted so far has been answered (the batch window is cut
	 * short): a store closes only after this, so no acknowledged write is cut off by its close.
	 */
	drain(): Promise<void> {
		if (this.#pending.length === 0 && this.#inFlight === 0) return Promise.resolve();
		return new Promise((resolve) => {
			this.#drained.push(resolve);
			this.#flush();
		});
	}

	/** Resolves true when stored, false for a duplicate id; rejects when the batch failed. */
	insert(doc: D): Promise<boolean> {
		return new Promise((settle, fail) => {
			this.#pending.push({ doc, settle, fail });
			if (this.#pending.length >= BATCH_MAX_DOCS) this.#flush();
			else this.#timer ??= setTimeout(() => this.#flush(), BATCH_WINDOW_MS);
		});
	}

	#flush(): void {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		// The batch that answers next writes what waits.
		if (this.#inFlight >= BATCHES_IN_FLIGHT || this.#pending.length === 0) return;
		const batch = this.#pending.splice(0, BATCH_MAX_DOCS);
		this.#inFlight++;
		void insertUnordered(
			this.collection,
			batch.map((p) => p.doc),
		)
			.then(
				(refused) => batch.forEach((p, i) => p.settle(!refused.has(i))),
				(error: unknown) => {
					for (const p of batch) p.fail(error);
				},
			)
			.finally(() => {
				this.#inFlight--;
				this.#flush();
				if (this.#pending.length === 0 && this.#inFlight === 0) {
					for (const resolve of this.#drained.splice(0)) resolve();
				}
			});
	}
}
