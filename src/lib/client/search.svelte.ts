import type { Transaction, UpdatingHookContext } from 'dexie';
import { openText, type AccountDb, type MessageRow } from './db';
import { Background } from './background';
import { probe } from './probe';
import { MessageIndex, excerpt, highlight, type IndexHit, type TextPiece } from './search-index';

/**
 * Rows the build reads at a time: reading them (IndexedDB hands them over on the page's thread)
 * takes a few milliseconds, so a read fits in one of the build's steps.
 */
const BUILD_CHUNK = 200;
/** While the build runs, how often a search page is told to search again (it finds more each time). */
const PROGRESS_EVERY_MS = 2_000;
/** Hits a search shows at most (the best ones). */
const RESULT_LIMIT = 100;
/** Characters of a message shown around its first match. */
const EXCERPT_CHARS = 160;

export interface SearchResult {
	id: string;
	peer: string;
	order: number;
	direction: MessageRow['direction'];
	pieces: TextPiece[];
}

export interface SearchGroup {
	peer: string;
	results: SearchResult[];
}

export interface SearchAnswer {
	query: string;
	groups: SearchGroup[];
	count: number;
}

/**
 * Full-text search of this account's local history, in this tab only: the hub never sees a query.
 *
 * The index lives in memory, built from the sealed rows once per unlock when the person first
 * shows they want to search (the search field focused, the search page opened), never before:
 * a tab that never searches holds no plaintext-derived terms and pays no build (at 100,000
 * messages, seconds of CPU and tens of megabytes). It is built in short steps (`background.ts`):
 * one every task while the search page is open, otherwise only while nobody uses the page.
 * It is never written anywhere: persisted, it would be plaintext-derived terms at rest.
 * Dexie's hooks on the messages table keep it current from the build's start, after each transaction
 * commits: a new or changed text is (re)indexed, and a message deleted, disappeared or forgotten
 * leaves the index with its row. A hit's text is opened from its row when shown.
 */
export class MessageSearch {
	readonly #db: AccountDb;
	readonly #localKey: Uint8Array;
	readonly #index = new MessageIndex();
	/** Ids written since the build started: the hooks have their latest state, the build skips them. */
	#touched: Set<string> | null = new Set(); // eslint-disable-line svelte/prefer-svelte-reactivity -- bookkeeping, never read by a template
	#ready = $state(false);
	#started = false;
	/** Views open that wait for results (search pages). */
	#waiting = 0;
	#indexed = $state(0);
	/** Moves on every PROGRESS_EVERY_MS of the build, and once more when it ends. */
	#progress = $state(0);
	#progressAt = 0;
	#stopped = false;
	/** The last search, kept for coming back to the page; in memory only (never in the URL or history). */
	#last = $state.raw<SearchAnswer | null>(null);
	#unhook: (() => void) | null = null;
	#query = $state('');
	/** The build runs in its steps: when the person has not used the page for a moment, a few milliseconds at a time. */
	readonly #background: Background;

	constructor(db: AccountDb, localKey: Uint8Array, background = new Background()) {
		this.#db = db;
		this.#localKey = localKey;
		this.#background = background;
	}

	/** Starts the build, if it has not started: the person may search soon (the search field has focus). */
	want(): void {
		if (this.#started || this.#stopped) return;
		this.#started = true;
		probe('search:build');
		this.#hook();
		void this.#build().catch((error: unknown) => console.error('hourglass: search index failed', error));
	}

	/**
	 * A view that shows results is open: the build starts if it has not, and takes a step every
	 * task until the returned function is called (the view closed).
	 */
	wait(): () => void {
		this.#waiting++;
		this.#background.urgent = true;
		this.want();
		let done = false;
		return () => {
			if (done) return;
			done = true;
			this.#waiting--;
			this.#background.urgent = this.#waiting > 0;
		};
	}

	/** The whole history is indexed (searches before that find what is indexed so far). */
	get ready(): boolean {
		return this.#ready;
	}

	/** Changes while the build runs (every few seconds) and when it ends: a search to run again. */
	get progress(): number {
		return this.#progress;
	}

	/** Messages indexed so far. */
	get indexed(): number {
		return this.#indexed;
	}

	/** What the search field holds, shared by the chat list's field and the search page. */
	get query(): string {
		return this.#query;
	}

	set query(value: string) {
		this.#query = value;
	}

	get last(): SearchAnswer | null {
		return this.#last;
	}

	/**
	 * Builds the index from the stored history in the background's steps, so that opening,
	 * reading and writing are never kept waiting by it (opening a row's text is most of its cost).
	 */
	async #build(): Promise<void> {
		let after: string | null = null;
		this.#progressAt = performance.now();
		while (!this.#stopped) {
			let budget = await this.#background.step();
			if (this.#stopped) break;
			const collection =
				after === null ? this.#db.messages.orderBy(':id') : this.#db.messages.where(':id').above(after);
			const rows: MessageRow[] = await collection.limit(BUILD_CHUNK).toArray();
			if (rows.length === 0) break;
			for (const row of rows) {
				if (!budget()) {
					this.#indexed = this.#index.size;
					budget = await this.#background.step();
				}
				if (this.#stopped) break;
				if (!this.#touched?.has(row.id)) this.#put(row);
			}
			after = rows[rows.length - 1].id;
			this.#indexed = this.#index.size;
			if (performance.now() - this.#progressAt >= PROGRESS_EVERY_MS) {
				this.#progressAt = performance.now();
				this.#progress++;
			}
		}
		this.#touched = null;
		this.#indexed = this.#index.size;
		this.#ready = !this.#stopped;
		this.#progress++;
	}

	stop(): void {
		this.#stopped = true;
		this.#background.dispose();
		this.#unhook?.();
		this.#unhook = null;
		this.#index.clear();
		this.#last = null;
		this.#query = '';
	}

	/** The best matches of `query`, grouped by conversation (the best group first), their text opened. */
	async find(query: string): Promise<SearchAnswer> {
		this.want();
		const hits = this.#index.search(query, RESULT_LIMIT);
		const rows = await this.#db.messages.bulkGet(hits.map((h) => h.id));
		const groups = new Map<string, SearchGroup>(); // eslint-disable-line svelte/prefer-svelte-reactivity -- local to this answer
		let count = 0;
		hits.forEach((hit, i) => {
			const result = this.#result(hit, rows[i]);
			if (!result) return;
			count++;
			const group = groups.get(hit.peer) ?? { peer: hit.peer, results: [] };
			group.results.push(result);
			groups.set(hit.peer, group);
		});
		const answer = { query, groups: [...groups.values()], count };
		this.#last = answer;
		return answer;
	}

	/** Drops the remembered search (the field was emptied). */
	forget(): void {
		this.#last = null;
	}

	#result(hit: IndexHit, row: MessageRow | undefined): SearchResult | null {
		const text = row ? textOf(row, this.#localKey) : null;
		if (!row || text === null) return null;
		return {
			id: row.id,
			peer: row.peer,
			order: row.order,
			direction: row.direction,
			pieces: excerpt(highlight(text, hit.terms), EXCERPT_CHARS),
		};
	}

	#put(row: MessageRow): void {
		const text = textOf(row, this.#localKey);
		if (text === null) this.#index.remove(row.id);
		else this.#index.put({ id: row.id, peer: row.peer, order: row.order, text });
	}

	#remove(id: string): void {
		this.#index.remove(id);
	}

	/** Applies each write to the index once its transaction committed (a rolled-back write changes nothing). */
	#hook(): void {
		const table = this.#db.messages;
		const after = (tx: Transaction, id: string, apply: () => void) => {
			this.#touched?.add(id);
			tx.on('complete', () => {
				if (this.#stopped) return;
				apply();
				this.#indexed = this.#index.size;
			});
		};
		const put = (row: MessageRow) => this.#put(row);
		const creating = (id: string, row: MessageRow, tx: Transaction) => after(tx, id, () => put(row));
		const updating = function (
			this: UpdatingHookContext<MessageRow, string>,
			_changes: object,
			id: string,
			_row: MessageRow,
			tx: Transaction,
		) {
			// The row as written (the changes are key paths, possibly nested).
			this.onsuccess = (next) => after(tx, id, () => put(next));
		};
		const deleting = (id: string, _row: MessageRow, tx: Transaction) => after(tx, id, () => this.#remove(id));
		table.hook('creating', creating);
		table.hook('updating', updating);
		table.hook('deleting', deleting);
		this.#unhook = () => {
			table.hook('creating').unsubscribe(creating);
			table.hook('updating').unsubscribe(updating);
			table.hook('deleting').unsubscribe(deleting);
		};
	}
}

/** A row's searchable text: none for a deleted message, a notice, a sealed or unreadable one. */
function textOf(row: MessageRow, localKey: Uint8Array): string | null {
	if (!row.text || row.status === 'deleted' || row.status === 'notice' || row.problem) return null;
	try {
		return openText(row.text, localKey);
	} catch {
		return null;
	}
}
