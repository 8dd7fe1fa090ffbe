import MiniSearch from 'minisearch';

/** What the index holds of a message: its text is tokenized, only its peer and place are kept. */
export interface IndexedMessage {
	id: string;
	peer: string;
	order: number;
	text: string;
}

export interface IndexHit {
	id: string;
	peer: string;
	order: number;
	score: number;
	/** The indexed terms that matched (folded, as `foldTerm` returns them). */
	terms: string[];
}

/** A piece of a message's text, marked when it is one of the matched words. */
export interface TextPiece {
	text: string;
	match: boolean;
}

/** Words as the index splits them: runs of letters, marks and digits in any script. */
const WORD = /[\p{L}\p{M}\p{N}]+/gu;

/** Case and accents do not matter: "Café" is found by "cafe". */
export function foldTerm(term: string): string {
	return term.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

function tokenize(text: string): string[] {
	return text.match(WORD) ?? [];
}

/**
 * The full-text index of the local history (MiniSearch), in memory only. Every word of a query
 * must match (AND); the last one may be a prefix, as it is while being typed; words of five
 * letters or more forgive one typo in five.
 */
export class MessageIndex {
	#mini = this.#create();

	#create(): MiniSearch<IndexedMessage> {
		return new MiniSearch<IndexedMessage>({
			fields: ['text'],
			storeFields: ['peer', 'order'],
			tokenize,
			processTerm: (term) => foldTerm(term),
			searchOptions: {
				combineWith: 'AND',
				prefix: (_term, i, terms) => i === terms.length - 1,
				fuzzy: (term) => (term.length >= 5 ? 0.2 : false),
			},
		});
	}

	get size(): number {
		return this.#mini.documentCount;
	}

	has(id: string): boolean {
		return this.#mini.has(id);
	}

	/** Adds a message, or replaces what the index held for its id (an edit of its text). */
	put(message: IndexedMessage): void {
		if (this.#mini.has(message.id)) this.#mini.discard(message.id);
		this.#mini.add(message);
	}

	/** Forgets a message: its words stop matching at once. */
	remove(id: string): void {
		if (this.#mini.has(id)) this.#mini.discard(id);
	}

	clear(): void {
		this.#mini = this.#create();
	}

	/** The best `limit` hits for `query`, best first; an empty query finds nothing. */
	search(query: string, limit: number): IndexHit[] {
		if (tokenize(query).length === 0) return [];
		return this.#mini
			.search(query)
			.slice(0, limit)
			.map((r) => ({
				id: String(r.id),
				peer: r.peer as string,
				order: r.order as number,
				score: r.score,
				terms: r.terms,
			}));
	}
}

/** `text` cut into pieces, the words that fold to one of `terms` marked (for a highlight without HTML). */
export function highlight(text: string, terms: string[]): TextPiece[] {
	const wanted = new Set(terms);
	const pieces: TextPiece[] = [];
	let at = 0;
	for (const word of text.matchAll(WORD)) {
		if (!wanted.has(foldTerm(word[0]))) continue;
		if (word.index > at) pieces.push({ text: text.slice(at, word.index), match: false });
		pieces.push({ text: word[0], match: true });
		at = word.index + word[0].length;
	}
	if (at < text.length) pieces.push({ text: text.slice(at), match: false });
	return pieces;
}

/** The part of `pieces` around the first match, at most about `max` characters, with "…" where cut. */
export function excerpt(pieces: TextPiece[], max: number): TextPiece[] {
	const total = pieces.reduce((n, p) => n + p.text.length, 0);
	if (total <= max) return pieces;
	let start = 0;
	for (const p of pieces) {
		if (p.match) break;
		start += p.text.length;
	}
	const from = Math.max(0, Math.min(start - Math.floor(max / 3), total - max));
	const to = from + max;
	const out: TextPiece[] = [];
	let at = 0;
	for (const p of pieces) {
		const end = at + p.text.length;
		if (end > from && at < to) {
			out.push({
				text: p.text.slice(Math.max(0, from - at), Math.min(p.text.length, to - at)),
				match: p.match,
			});
		}
		at = end;
	}
	if (from > 0) out.unshift({ text: '…', match: false });
	if (to < total) out.push({ text: '…', match: false });
	return out;
}
