import { Dexie, liveQuery, type Subscription } from 'dexie';
import type { MessageView } from './conversations.svelte';
import type { AccountDb, MessageRow } from './db';
import { WINDOW_MAX, WINDOW_PAGE, canUnlock, isSealedApart } from './timeline';

/**
 * A bounded window onto one conversation's history, following the database (`liveQuery`): it
 * opens at the latest messages, grows as the reader scrolls up until WINDOW_MAX rows, then slides,
 * so a conversation of 100,000 messages puts no more rows on screen than one of 200.
 *
 * Time-locks still closed are not in it (they show apart, see SealedRows): one of ours joins it,
 * at its unlock place, when the hub's clock passes its unlock time.
 */
export class MessageWindow {
	readonly peer: string;
	readonly #db: AccountDb;
	readonly #toView: (row: MessageRow) => MessageView;
	#rows = $state.raw<MessageView[]>([]);
	#hasOlder = $state(false);
	/** The highest place the window shows, or null when it ends at the newest message (and follows it). */
	#upper = $state<number | null>(null);
	#loaded = $state(false);
	#size = WINDOW_PAGE;
	#query: Subscription | null = null;
	/** True from a move until the moved window is first read, so scrolling does not stack moves. */
	#moving = $state(false);
	readonly #now: () => number;
	/** Reads the window again when the clock opens the next of our time-locks it leaves out. */
	#unlockTimer: ReturnType<typeof setTimeout> | null = null;

	constructor(
		db: AccountDb,
		peer: string,
		toView: (row: MessageRow) => MessageView,
		now: () => number = Date.now,
	) {
		this.#db = db;
		this.peer = peer;
		this.#toView = toView;
		this.#now = now;
	}

	/** The rows on screen, oldest first. */
	get rows(): MessageView[] {
		return this.#rows;
	}

	/** Older messages exist than the first row shown. */
	get hasOlder(): boolean {
		return this.#hasOlder;
	}

	/** The window ends at the newest message, so new ones appear in it. */
	get atLatest(): boolean {
		return this.#upper === null;
	}

	/** The first read finished (an empty conversation is then known to be empty). */
	get loaded(): boolean {
		return this.#loaded;
	}

	get moving(): boolean {
		return this.#moving;
	}

	start(): void {
		this.#follow();
	}

	stop(): void {
		this.#query?.unsubscribe();
		this.#query = null;
		this.#followAt(null);
	}

	/** Shows older messages above: the window grows up to WINDOW_MAX rows, then slides up. */
	showOlder(): void {
		if (!this.#hasOlder || this.#moving) return;
		if (this.#size < WINDOW_MAX) {
			this.#size = Math.min(WINDOW_MAX, this.#size + WINDOW_PAGE);
		} else {
			const rows = this.#rows;
			this.#upper = rows[rows.length - 1 - WINDOW_PAGE].order;
		}
		this.#follow();
	}

	/** Slides the window down towards the newest messages, and follows them again once it reaches them. */
	async showNewer(): Promise<void> {
		const upper = this.#upper;
		if (upper === null || this.#moving) return;
		this.#moving = true;
		let next: MessageRow[];
		try {
			const now = this.#now();
			next = await this.#range(upper, 'above')
				.filter((row) => !isSealedApart(row, now))
				.limit(WINDOW_PAGE + 1)
				.toArray();
		} finally {
			// #follow sets it again until the moved window is read; a failed read must not block scrolling.
			this.#moving = false;
		}
		if (this.#upper !== upper) return;
		this.#upper = next.length > WINDOW_PAGE ? next[WINDOW_PAGE - 1].order : null;
		this.#follow();
	}

	/** Shows the rows around the message at `order` (half a page after it), e.g. a search result. */
	async showAround(order: number): Promise<void> {
		const half = WINDOW_PAGE / 2;
		const after = await this.#range(order, 'above')
			.limit(half + 1)
			.toArray();
		this.#size = WINDOW_PAGE;
		this.#upper = after.length > half ? after[half - 1].order : null;
		this.#follow();
	}

	/** Back to the newest messages, with the opening number of rows. */
	showLatest(): void {
		if (this.#upper === null && this.#size === WINDOW_PAGE) return;
		this.#upper = null;
		this.#size = WINDOW_PAGE;
		this.#follow();
	}

	#range(bound: number | null, side: 'upTo' | 'above') {
		const rows = this.#db.messages.where('[peer+order]');
		if (side === 'above') return rows.between([this.peer, bound], [this.peer, Dexie.maxKey], false, true);
		return rows.between([this.peer, Dexie.minKey], [this.peer, bound ?? Dexie.maxKey], true, true);
	}

	/** (Re)subscribes to the window's range; the old rows stay on screen until the new ones are read. */
	#follow(): void {
		this.#query?.unsubscribe();
		this.#moving = true;
		const size = this.#size;
		const upper = this.#upper;
		this.#query = liveQuery(async () => {
			const now = this.#now();
			let nextUnlock: number | null = null;
			const rows = await this.#range(upper, 'upTo')
				.reverse()
				.filter((row) => {
					if (!isSealedApart(row, now)) return true;
					if (canUnlock(row)) nextUnlock = Math.min(nextUnlock ?? Infinity, row.unlockAt ?? Infinity);
					return false;
				})
				.limit(size + 1)
				.toArray();
			return { rows: rows.slice(0, size).reverse(), hasOlder: rows.length > size, nextUnlock };
		}).subscribe({
			next: ({ rows, hasOlder, nextUnlock }) => {
				this.#rows = rows.map(this.#toView);
				this.#hasOlder = hasOlder;
				this.#loaded = true;
				this.#moving = false;
				this.#followAt(nextUnlock);
			},
			error: (error: unknown) => {
				this.#moving = false;
				console.error('hourglass: reading the conversation failed', error);
			},
		});
	}

	#followAt(at: number | null): void {
		if (this.#unlockTimer) clearTimeout(this.#unlockTimer);
		this.#unlockTimer = null;
		if (at === null || !this.#query) return;
		this.#unlockTimer = setTimeout(
			() => {
				this.#unlockTimer = null;
				this.#follow();
			},
			Math.max(0, at - this.#now()),
		);
	}
}
