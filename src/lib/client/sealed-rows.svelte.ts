import { Dexie, liveQuery, type Subscription } from 'dexie';
import type { MessageView } from './conversations.svelte';
import type { AccountDb, MessageRow } from './db';
import { canUnlock } from './timeline';

/**
 * One conversation's time-locks that are still sealed, following the database: the peer's
 * announced ones (placeholders) and our own before their unlock time, soonest first. They show apart
 * from the timeline, which takes each one in at its unlock place once it opens. Which of ours are
 * still closed depends on the hub's clock: the view filters them with `isSealedApart` as it ticks.
 */
export class SealedRows {
	readonly peer: string;
	readonly #db: AccountDb;
	readonly #toView: (row: MessageRow) => MessageView;
	readonly #now: () => number;
	#rows = $state.raw<MessageView[]>([]);
	#query: Subscription | null = null;

	constructor(db: AccountDb, peer: string, toView: (row: MessageRow) => MessageView, now: () => number) {
		this.#db = db;
		this.peer = peer;
		this.#toView = toView;
		this.#now = now;
	}

	/** Sealed rows, soonest unlock first (ours may have opened since: check against the clock). */
	get rows(): MessageView[] {
		return this.#rows;
	}

	start(): void {
		this.#query?.unsubscribe();
		const peer = this.peer;
		this.#query = liveQuery(async () => {
			// A closed time-lock of ours sits at its unlock time, after now: only the rows placed ahead.
			const ahead = await this.#db.messages
				.where('[peer+order]')
				.between([peer, this.#now()], [peer, Dexie.maxKey])
				.filter((row) => canUnlock(row) && row.status !== 'failed')
				.toArray();
			// An announced placeholder stays sealed until the hub releases it, even a little past its time.
			const announced = await this.#db.messages
				.where('status')
				.equals('sealed')
				.filter((row) => row.peer === peer)
				.toArray();
			return [...ahead, ...announced].sort((a, b) => (a.unlockAt ?? 0) - (b.unlockAt ?? 0));
		}).subscribe({
			next: (rows) => {
				this.#rows = rows.map(this.#toView);
			},
			error: (error: unknown) => {
				console.error('hourglass: reading the sealed messages failed', error);
			},
		});
	}

	stop(): void {
		this.#query?.unsubscribe();
		this.#query = null;
	}
}
