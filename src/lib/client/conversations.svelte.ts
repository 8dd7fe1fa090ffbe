import { Dexie, liveQuery, type Subscription } from 'dexie';
import { LIMITS, type FileBody, type SealedNotice, type TextBody } from '../protocol';
import type { DecodedMessage, DeletedMessage } from '../sdk';
import { lastOfPeer, openText, sealText, type AccountDb, type ConversationRow, type MessageRow } from './db';
import { MessageWindow } from './message-window.svelte';
import { SealedRows } from './sealed-rows.svelte';
import { canUnlock, isStillLocked, orderOf } from './timeline';

/** A message as the UI shows it: the text opened from its sealed form, or null. */
export interface MessageView extends Omit<MessageRow, 'text' | 'file'> {
	text: string | null;
	/** What a file message shows: its name, media type, size and thumbnail (the key stays in the row, sealed). */
	file: Pick<FileBody, 'name' | 'mime' | 'size' | 'thumbnail'> | null;
}

export interface ConversationView {
	peer: string;
	lastAt: number;
	unread: number;
	last: MessageView | null;
	/** The disappearing timer of messages sent now, or null when off. */
	timerMs: number | null;
}

/** A conversation read further than before on this device: for the other devices, and the peer's receipts. */
export interface ReadAdvance {
	peer: string;
	upTo: number;
	/** Incoming messages newly read (the newest few), for read receipts; empty when not asked for. */
	ids: string[];
}

/** What a receipt leaves as it is: a deleted message, a timer line (its control envelope is receipted too). */
const NOT_DELIVERABLE: ReadonlySet<MessageRow['status']> = new Set([
	'delivered',
	'read',
	'deleted',
	'notice',
]);

/** Views kept for reuse: enough for every row a window shows and every conversation's preview. */
const VIEW_CACHE_MAX = 4_000;

/**
 * The conversations of one account: every write to them, and the views that follow them.
 *
 * Writes go to IndexedDB first (so the history survives a reload or going offline), one
 * transaction per batch. The list and the open conversation follow the database through Dexie's
 * `liveQuery`, so no write refreshes anything by hand, and a row whose data did not change keeps
 * the same view object, which Svelte does not render again.
 */
export class Conversations {
	#db: AccountDb;
	#localKey: Uint8Array;
	#list = $state.raw<ConversationView[]>([]);
	#window = $state.raw<MessageWindow | null>(null);
	#sealed = $state.raw<SealedRows | null>(null);
	#listQuery: Subscription | null = null;
	/** A preview of ours still time-locked opens by the clock, with no write: the list is read again then. */
	#unlockTimer: ReturnType<typeof setTimeout> | null = null;
	/** Told when this device reads a conversation further (the engine sends markers and receipts). */
	onRead: (advance: ReadAdvance) => void = () => {};
	/** Whether `onRead` should carry the ids read (read receipts are on). */
	wantReceiptIds: () => boolean = () => false;
	/** Opened rows by id, with the row they were made from. Not reactive: a cache. */
	#views = new Map<string, { row: MessageRow; view: MessageView }>(); // eslint-disable-line svelte/prefer-svelte-reactivity -- a cache, never read by a template
	#now: () => number;
	/** Called after a write that may move the next disappearing message's removal (see Expiry). */
	onTimersChanged: () => void = () => {};
	/** Called after messages were removed or deleted for everyone (their offline file copies go too). */
	onRemoved: () => void = () => {};

	constructor(db: AccountDb, localKey: Uint8Array, now: () => number = Date.now) {
		this.#db = db;
		this.#localKey = localKey;
		this.#now = now;
	}

	/** The disappearing timer that messages to `peer` carry now (null: off). */
	async timerOf(peer: string): Promise<number | null> {
		return (await this.#db.conversations.get(peer))?.timerMs ?? null;
	}

	get list(): ConversationView[] {
		return this.#list;
	}

	/** The conversation on screen, if any. */
	get peer(): string | null {
		return this.#window?.peer ?? null;
	}

	/** The open conversation's window onto its history. */
	get window(): MessageWindow | null {
		return this.#window;
	}

	get messages(): MessageView[] {
		return this.#window?.rows ?? [];
	}

	/** The open conversation's time-locks still sealed, shown apart from its timeline. */
	get sealed(): SealedRows | null {
		return this.#sealed;
	}

	/** Starts following the conversation list; resolves once it is first shown. */
	load(): Promise<void> {
		this.#listQuery?.unsubscribe();
		return new Promise((resolve) => {
			this.#listQuery = liveQuery(() => this.#readList()).subscribe({
				next: ({ list, nextUnlock }) => {
					this.#list = list;
					this.#rereadAt(nextUnlock);
					resolve();
				},
				error: (error: unknown) => {
					console.error('hourglass: conversation list failed', error);
					resolve();
				},
			});
		});
	}

	stop(): void {
		this.#listQuery?.unsubscribe();
		this.#listQuery = null;
		this.#rereadAt(null);
		this.#window?.stop();
		this.#window = null;
		this.#sealed?.stop();
		this.#sealed = null;
	}

	#rereadAt(at: number | null): void {
		if (this.#unlockTimer) clearTimeout(this.#unlockTimer);
		this.#unlockTimer = null;
		if (at === null || !this.#listQuery) return;
		this.#unlockTimer = setTimeout(
			() => {
				this.#unlockTimer = null;
				void this.load();
			},
			Math.max(0, at - this.#now()),
		);
	}

	/** Shows a conversation and marks it read. */
	async open(peer: string): Promise<void> {
		if (this.#window?.peer !== peer) {
			this.#window?.stop();
			const window = new MessageWindow(this.#db, peer, (row) => this.#view(row), this.#now);
			this.#window = window;
			window.start();
			this.#sealed?.stop();
			const sealed = new SealedRows(this.#db, peer, (row) => this.#view(row), this.#now);
			this.#sealed = sealed;
			sealed.start();
		}
		await this.markRead(peer);
	}

	/** Marks the conversation read up to its newest incoming message, and tells `onRead` when that moved. */
	async markRead(peer: string): Promise<void> {
		const withIds = this.wantReceiptIds();
		// No write when nothing changes: every write wakes the views that follow the table.
		const { advance, started } = await this.#db.transaction(
			'rw',
			this.#db.messages,
			this.#db.conversations,
			async () => {
				// Read now: each disappearing message's timer starts.
				const started = await this.#startTimers(peer, Infinity);
				const row = await this.#db.conversations.get(peer);
				if (!row) return { advance: null, started };
				const before = row.readUpTo ?? 0;
				const newest = await this.#peerRows(peer, before)
					.reverse()
					.filter((m) => m.direction === 'in' && m.status === 'received')
					.first();
				const upTo = Math.max(before, newest?.order ?? 0);
				if (row.unread === 0 && upTo === before) return { advance: null, started };
				await this.#db.conversations.update(peer, { unread: 0, readUpTo: upTo });
				if (upTo === before) return { advance: null, started };
				const ids = withIds
					? (
							await this.#peerRows(peer, before)
								.filter((m) => m.direction === 'in' && m.status === 'received' && m.order <= upTo)
								.toArray()
						)
							.slice(-LIMITS.readReceiptIdsMax)
							.map((m) => m.id)
					: [];
				const advance: ReadAdvance = { peer, upTo, ids };
				return { advance, started };
			},
		);
		if (started > 0) this.onTimersChanged();
		if (advance) this.onRead(advance);
	}

	/**
	 * Another device of the account read the conversation up to `upTo`: what is not newer stops
	 * counting as unread. Markers only move forward. Returns whether anything changed.
	 */
	async applyRead(peer: string, upTo: number): Promise<boolean> {
		let started = 0;
		const changed = await this.#db.transaction('rw', this.#db.messages, this.#db.conversations, async () => {
			const row = await this.#db.conversations.get(peer);
			// A marker for a conversation this device does not have yet: nothing to mark.
			if (!row || upTo <= (row.readUpTo ?? 0)) return false;
			// Read on another device is read: the disappearing timers of what it covers start here too.
			started = await this.#startTimers(peer, upTo);
			const unread = this.#isWatching(peer) ? 0 : await this.#unreadAfter(peer, upTo);
			await this.#db.conversations.update(peer, { readUpTo: upTo, unread });
			return true;
		});
		if (started > 0) this.onTimersChanged();
		return changed;
	}

	/**
	 * Inside the caller's transaction: starts the timers of the peer's disappearing messages that
	 * wait for a read, placed up to `upTo`; returns how many started.
	 */
	async #startTimers(peer: string, upTo: number): Promise<number> {
		const waiting = (await this.#db.messages.where('waitsForRead').equals(peer).toArray()).filter(
			(m) => m.order <= upTo,
		);
		if (waiting.length === 0) return 0;
		const now = this.#now();
		await this.#db.messages.bulkPut(
			waiting.map(({ waitsForRead: _, ...rest }) => ({
				...rest,
				expiresAt: now + (rest.expiresAfterMs ?? 0),
			})),
		);
		return waiting.length;
	}

	/** The peer read these of our messages (their read receipt): "Read" on each that is ours and theirs. */
	async markReadByPeer(peer: string, ids: string[]): Promise<void> {
		if (ids.length === 0) return;
		await this.#db.transaction('rw', this.#db.messages, async () => {
			const rows = await this.#db.messages.bulkGet(ids);
			const read = rows.filter(
				(row): row is MessageRow =>
					row !== undefined &&
					row.direction === 'out' &&
					row.peer === peer &&
					row.status !== 'read' &&
					row.status !== 'cancelled' &&
					row.status !== 'failed',
			);
			if (read.length > 0)
				await this.#db.messages.bulkPut(read.map((row) => ({ ...row, status: 'read' as const })));
		});
	}

	/** The peer's rows placed after `after`, in order. */
	#peerRows(peer: string, after: number) {
		return this.#db.messages.where('[peer+order]').between([peer, after], [peer, Dexie.maxKey], false, true);
	}

	/**
	 * Incoming messages placed after `upTo`: the unread count from there. An announced time-lock
	 * still sealed is not counted again (it counted once, when it was announced): nothing to read yet.
	 */
	#unreadAfter(peer: string, upTo: number): Promise<number> {
		return this.#peerRows(peer, upTo)
			.filter((m) => m.direction === 'in' && m.status === 'received')
			.count();
	}

	/** Deleted for everyone by their sender (checked already): each row keeps its place and loses its text. */
	async markDeleted(deletions: Pick<DeletedMessage, 'id'>[]): Promise<void> {
		if (deletions.length === 0) return;
		await this.#db.transaction('rw', this.#db.messages, this.#db.conversations, async () => {
			const rows = await this.#db.messages.bulkGet(deletions.map((d) => d.id));
			const hit = rows.filter((row): row is MessageRow => row !== undefined && row.status !== 'deleted');
			if (hit.length === 0) return;
			// The file's key goes with the text: a deleted file can no longer be fetched or opened here.
			await this.#db.messages.bulkPut(
				hit.map((row) => ({ ...row, status: 'deleted' as const, text: null, file: null })),
			);
			const bumps = new Bumps();
			for (const row of hit) bumps.touch(row.peer);
			await this.#applyBumps(bumps);
		});
		this.onRemoved();
	}

	/** Delete for me: the rows go, and a later sync that brings them again is ignored. */
	async forget(ids: string[]): Promise<void> {
		if (ids.length === 0) return;
		await this.#db.transaction('rw', this.#db.messages, this.#db.conversations, this.#db.gone, async () => {
			await this.#remove(ids);
		});
		this.onRemoved();
	}

	/** Removes the disappearing messages whose time has come by `now`; says when the next one is due (or null). */
	async expireDue(now: number): Promise<number | null> {
		const { removed, next } = await this.#db.transaction(
			'rw',
			this.#db.messages,
			this.#db.conversations,
			this.#db.gone,
			async () => {
				const due = await this.#db.messages.where('expiresAt').belowOrEqual(now).primaryKeys();
				await this.#remove(due);
				const next = await this.#db.messages.orderBy('expiresAt').first();
				return { removed: due.length, next: next?.expiresAt ?? null };
			},
		);
		if (removed > 0) this.onRemoved();
		return next;
	}

	/** Inside the caller's transaction: deletes the rows, remembers their ids, moves their conversations. */
	async #remove(ids: string[]): Promise<void> {
		const rows = (await this.#db.messages.bulkGet(ids)).filter((row) => row !== undefined);
		const at = this.#now();
		await this.#db.gone.bulkPut(ids.map((id) => ({ id, at })));
		await this.#db.messages.bulkDelete(ids);
		for (const row of rows) this.#views.delete(row.id);
		const bumps = new Bumps();
		for (const row of rows) bumps.touch(row.peer);
		await this.#applyBumps(bumps);
	}

	close(peer: string): void {
		if (this.#window?.peer !== peer) return;
		this.#window.stop();
		this.#window = null;
		this.#sealed?.stop();
		this.#sealed = null;
	}

	/** Makes sure the conversation exists (a new conversation starts empty). */
	async ensure(peer: string, at: number): Promise<void> {
		await this.#db.transaction('rw', this.#db.conversations, async () => {
			if (!(await this.#db.conversations.get(peer))) {
				await this.#db.conversations.put({ peer, lastAt: at, unread: 0, lastId: null });
			}
		});
	}

	/** Forgets a conversation on this device: its messages and its row (a declined or blocked request). */
	async remove(peer: string): Promise<void> {
		this.close(peer);
		await this.#db.transaction('rw', this.#db.messages, this.#db.conversations, async () => {
			await this.#db.messages
				.where('[peer+order]')
				.between([peer, Dexie.minKey], [peer, Dexie.maxKey])
				.delete();
			await this.#db.conversations.delete(peer);
		});
		this.onRemoved();
	}

	/**
	 * Stores envelopes from the hub in one transaction, dropping those already held (delivery is
	 * at-least-once). Returns the messages that are new to this device, for receipts and notifications.
	 */
	async ingest(all: DecodedMessage[]): Promise<DecodedMessage[]> {
		// Read state and receipts are the engine's to apply; a forget or a timer setting changes the history.
		const messages = all.filter(
			(m) => m.kind !== 'control' || m.control?.type === 'forget' || m.control?.type === 'timer',
		);
		if (messages.length === 0) return [];
		const fresh: DecodedMessage[] = [];
		let timers = false;
		const tables = [this.#db.messages, this.#db.conversations, this.#db.gone];
		await this.#db.transaction('rw', tables, async () => {
			const held = new Map<string, MessageRow>(); // eslint-disable-line svelte/prefer-svelte-reactivity -- local to this write
			const existing = await this.#db.messages.bulkGet(messages.map((m) => m.id));
			for (const row of existing) if (row) held.set(row.id, row);
			const peers = [...new Set(messages.map((m) => m.peer))]; // eslint-disable-line svelte/prefer-svelte-reactivity -- local to this write
			const conversations = await this.#db.conversations.bulkGet(peers);
			const readUpTo = new Map(peers.map((peer, i) => [peer, conversations[i]?.readUpTo ?? 0])); // eslint-disable-line svelte/prefer-svelte-reactivity -- local to this write
			const gone = new Set((await this.#db.gone.bulkGet(messages.map((m) => m.id))).map((g) => g?.id)); // eslint-disable-line svelte/prefer-svelte-reactivity -- local to this write
			const puts: MessageRow[] = [];
			const bumps = new Bumps();
			const forgets: string[] = [];
			const settings = new Map<string, { at: number; expiresAfterMs: number | null }>(); // eslint-disable-line svelte/prefer-svelte-reactivity -- local to this write
			for (const m of messages) {
				const row = held.get(m.id);
				if (gone.has(m.id)) continue;
				if (m.kind === 'control') {
					// Never a message in the list: a forget removes one, a timer setting is a line; anything else is dropped.
					if (m.control?.type === 'forget') forgets.push(m.control.id);
					if (m.control?.type === 'timer' && !row) {
						const next = this.#noticeOf(m, m.control.expiresAfterMs);
						puts.push(next);
						held.set(next.id, next);
						bumps.add(m.peer, m.storedAt, false);
						const previous = settings.get(m.peer);
						if (!previous || previous.at < m.storedAt) {
							settings.set(m.peer, { at: m.storedAt, expiresAfterMs: m.control.expiresAfterMs });
						}
					}
					continue;
				}
				if (m.expiresAfterMs !== null && !row) timers = true;
				if (m.state === 'cancelled') {
					// Our own time-lock, cancelled from another device while this one was away.
					if (m.direction === 'out' && row && row.status !== 'cancelled') {
						puts.push({ ...row, status: 'cancelled', order: orderOf(m) });
						bumps.touch(m.peer);
					}
					continue;
				}
				let next: MessageRow;
				if (m.direction === 'in') {
					// A placeholder (or one that a sync took for cancelled, racing its release) gives way to the message.
					if (row && row.status !== 'sealed' && row.status !== 'cancelled') continue;
					next = this.#rowOf(m);
					fresh.push(m);
					// Already read on another device (its marker came first): not unread here either.
					const unread = !this.#isWatching(m.peer) && orderOf(m) > (readUpTo.get(m.peer) ?? 0);
					bumps.add(m.peer, activityTime(m), unread);
				} else if (row) {
					// Our own message coming back (another device, or a resend): keep its delivery state.
					next = {
						...row,
						storedAt: row.storedAt ?? m.storedAt,
						releasedAt: m.releasedAt,
						order: orderOf(m),
						status: row.status === 'sending' || row.status === 'failed' ? 'sent' : row.status,
					};
					bumps.touch(m.peer);
				} else {
					next = this.#rowOf(m);
					bumps.add(m.peer, activityTime(m), false);
				}
				// Writing in a conversation means having read what came before (another device, or history).
				if (m.direction === 'out') bumps.readTo(m.peer, m.storedAt);
				puts.push(next);
				// The same id twice in one batch: the second sees the first.
				held.set(next.id, next);
			}
			await this.#db.messages.bulkPut(puts);
			await this.#applyBumps(bumps);
			await this.#applyTimers(settings);
			if (forgets.length > 0) await this.#remove(forgets);
		});
		if (timers) this.onTimersChanged();
		return fresh;
	}

	/** A timer set by either side: the latest setting (by the hub's time) decides the conversation's timer. */
	async #applyTimers(settings: Map<string, { at: number; expiresAfterMs: number | null }>): Promise<void> {
		for (const [peer, setting] of settings) {
			const row = await this.#db.conversations.get(peer);
			if (row && (row.timerSetAt ?? 0) < setting.at) {
				await this.#db.conversations.update(peer, {
					timerMs: setting.expiresAfterMs,
					timerSetAt: setting.at,
				});
			}
		}
	}

	#noticeOf(m: DecodedMessage, expiresAfterMs: number | null): MessageRow {
		return {
			id: m.id,
			peer: m.peer,
			direction: m.direction,
			status: 'notice',
			order: m.storedAt,
			sentAt: m.sentAt,
			storedAt: m.storedAt,
			unlockAt: null,
			releasedAt: null,
			announce: false,
			text: null,
			problem: null,
			error: null,
			notice: { kind: 'timer', by: m.from, expiresAfterMs },
		};
	}

	/** Announced time-locks: a placeholder with the sender and the unlock date, and nothing to read. */
	async addSealed(notices: SealedNotice[]): Promise<SealedNotice[]> {
		if (notices.length === 0) return [];
		const fresh: SealedNotice[] = [];
		await this.#db.transaction('rw', this.#db.messages, this.#db.conversations, async () => {
			const existing = await this.#db.messages.bulkGet(notices.map((n) => n.id));
			const seen = new Set(existing.filter((row) => row !== undefined).map((row) => row.id)); // eslint-disable-line svelte/prefer-svelte-reactivity -- local to this write
			const bumps = new Bumps();
			const puts: MessageRow[] = [];
			for (const n of notices) {
				if (seen.has(n.id)) continue;
				seen.add(n.id);
				puts.push({
					id: n.id,
					peer: n.from,
					direction: 'in',
					status: 'sealed',
					order: n.unlockAt,
					sentAt: n.sentAt,
					storedAt: null,
					unlockAt: n.unlockAt,
					releasedAt: null,
					announce: true,
					text: null,
					problem: null,
					error: null,
				});
				bumps.add(n.from, n.sentAt, !this.#isWatching(n.from));
				fresh.push(n);
			}
			await this.#db.messages.bulkPut(puts);
			await this.#applyBumps(bumps);
		});
		return fresh;
	}

	/** Placeholders the hub no longer holds sealed and did not deliver were cancelled: they say so. */
	async reconcileSealed(stillSealed: Set<string>): Promise<void> {
		await this.#db.transaction('rw', this.#db.messages, this.#db.conversations, async () => {
			const stale = (await this.#db.messages.where('status').equals('sealed').toArray()).filter(
				(row) => !stillSealed.has(row.id),
			);
			if (stale.length === 0) return;
			await this.#db.messages.bulkPut(stale.map(cancelledRow));
			const bumps = new Bumps();
			for (const row of stale) bumps.touch(row.peer);
			await this.#applyBumps(bumps);
		});
	}

	/**
	 * A time-lock cancelled by its sender: the recipient's placeholder and the sender's copy both say
	 * so, where it was sent (it never opens, so it has no unlock place).
	 */
	async cancelled(id: string): Promise<void> {
		await this.#db.transaction('rw', this.#db.messages, this.#db.conversations, async () => {
			const row = await this.#db.messages.get(id);
			if (!row) return;
			if (row.direction === 'in' && row.status !== 'sealed') return;
			await this.#db.messages.put(cancelledRow(row));
			const bumps = new Bumps();
			bumps.touch(row.peer);
			await this.#applyBumps(bumps);
		});
	}

	async markDelivered(receipts: { id: string; at: number }[]): Promise<void> {
		if (receipts.length === 0) return;
		await this.#db.transaction('rw', this.#db.messages, async () => {
			const rows = await this.#db.messages.bulkGet(receipts.map((r) => r.id));
			const delivered = rows.filter(
				(row): row is MessageRow =>
					row !== undefined && row.direction === 'out' && !NOT_DELIVERABLE.has(row.status),
			);
			if (delivered.length > 0) {
				await this.#db.messages.bulkPut(delivered.map((row) => ({ ...row, status: 'delivered' as const })));
			}
		});
	}

	/** A message written here, before the hub has it. */
	async addOutgoing(row: Omit<MessageRow, 'text'>, body: TextBody | FileBody): Promise<void> {
		await this.#db.transaction('rw', this.#db.messages, this.#db.conversations, async () => {
			await this.#db.messages.put(
				body.type === 'text'
					? { ...row, text: sealText(body.text, this.#localKey) }
					: { ...row, text: null, file: sealText(JSON.stringify(body), this.#localKey) },
			);
			const bumps = new Bumps();
			bumps.add(row.peer, row.sentAt, false);
			await this.#applyBumps(bumps);
		});
	}

	async updateOutgoing(id: string, patch: Partial<Omit<MessageRow, 'id' | 'text'>>): Promise<void> {
		await this.#db.transaction('rw', this.#db.messages, this.#db.conversations, async () => {
			const row = await this.#db.messages.get(id);
			if (!row) return;
			// A receipt can overtake the send's acknowledgement: never step back from "delivered".
			if ((row.status === 'delivered' || row.status === 'read') && patch.status === 'sent')
				delete patch.status;
			await this.#db.messages.update(id, patch);
			if (patch.order !== undefined && patch.order !== row.order) {
				const bumps = new Bumps();
				bumps.touch(row.peer);
				await this.#applyBumps(bumps);
			}
		});
	}

	#isWatching(peer: string): boolean {
		return this.peer === peer && document.visibilityState === 'visible';
	}

	/** Moves each touched conversation's activity time, unread count and last message, inside the caller's transaction. */
	async #applyBumps(bumps: Bumps): Promise<void> {
		const peers = [...bumps.peers()];
		if (peers.length === 0) return;
		const rows = await this.#db.conversations.bulkGet(peers);
		const next: ConversationRow[] = [];
		for (const [i, peer] of peers.entries()) {
			const row = rows[i];
			const bump = bumps.get(peer);
			const readUpTo = Math.max(row?.readUpTo ?? 0, bump.readUpTo);
			const moved = readUpTo > (row?.readUpTo ?? 0);
			next.push({
				// Keeps what else the row holds (the disappearing timer).
				...row,
				peer,
				lastAt: Math.max(row?.lastAt ?? 0, bump.at),
				// Read further: count again from there (this batch's rows are written already).
				unread: moved
					? this.#isWatching(peer)
						? 0
						: await this.#unreadAfter(peer, readUpTo)
					: (row?.unread ?? 0) + bump.unread,
				lastId: (await lastOfPeer(this.#db.messages, peer))?.id ?? null,
				readUpTo,
			});
		}
		await this.#db.conversations.bulkPut(next);
	}

	/** A decoded message as stored on this device: incoming ones are "received", our own "sent". */
	#rowOf(m: DecodedMessage): MessageRow {
		const timer = m.expiresAfterMs;
		// Our own copy disappears that long after it was sent; another's after it is first read here.
		const expiry: Partial<MessageRow> =
			timer === null
				? {}
				: m.direction === 'out'
					? { expiresAfterMs: timer, expiresAt: m.storedAt + timer }
					: this.#isWatching(m.peer)
						? { expiresAfterMs: timer, expiresAt: this.#now() + timer }
						: { expiresAfterMs: timer, waitsForRead: m.peer };
		return {
			...expiry,
			id: m.id,
			peer: m.peer,
			direction: m.direction,
			status: m.direction === 'in' ? 'received' : 'sent',
			order: orderOf(m),
			sentAt: m.sentAt,
			storedAt: m.storedAt,
			unlockAt: m.unlockAt,
			releasedAt: m.releasedAt,
			announce: m.announce,
			// Never keep the text of a message that failed a check.
			text: m.text !== null && m.problem === null ? sealText(m.text, this.#localKey) : null,
			file: m.file && m.problem === null ? sealText(JSON.stringify(m.file), this.#localKey) : null,
			problem: m.problem,
			error: null,
		};
	}

	/** The list, and when the clock next opens a time-lock of ours that a preview would then show. */
	async #readList(): Promise<{ list: ConversationView[]; nextUnlock: number | null }> {
		const rows = await this.#db.conversations.orderBy('lastAt').reverse().toArray();
		const lasts = await this.#db.messages.bulkGet(rows.map((row) => row.lastId ?? ''));
		const now = this.#now();
		let nextUnlock: number | null = null;
		for (const [i, last] of lasts.entries()) {
			// Rare: our own time-lock is the latest row and still closed; the preview is the one before it.
			if (!last || !isStillLocked(last, now)) continue;
			lasts[i] = await lastOfPeer(this.#db.messages, rows[i].peer, now, (passed) => {
				if (canUnlock(passed)) nextUnlock = Math.min(nextUnlock ?? Infinity, passed.unlockAt ?? Infinity);
			});
		}
		const list = rows.map((row, i) => {
			const last = lasts[i];
			return {
				peer: row.peer,
				lastAt: row.lastAt,
				unread: row.unread,
				last: last ? this.#view(last) : null,
				timerMs: row.timerMs ?? null,
			};
		});
		return { list, nextUnlock };
	}

	/** The view of a row: the same object as last time when the row did not change, so nothing re-renders. */
	#view(row: MessageRow): MessageView {
		const cached = this.#views.get(row.id);
		if (cached && sameRow(cached.row, row)) return cached.view;
		let text: string | null = null;
		if (row.text) {
			const sameText = cached?.row.text?.ciphertext === row.text.ciphertext;
			text = sameText && cached ? cached.view.text : null;
			if (text === null) {
				try {
					text = openText(row.text, this.#localKey);
				} catch {
					text = null;
				}
			}
		}
		const { file: sealedFile, ...rest } = row;
		const view: MessageView = {
			...rest,
			text,
			file: cached && cached.row.file === sealedFile ? cached.view.file : fileOf(sealedFile, this.#localKey),
		};
		this.#views.delete(row.id);
		this.#views.set(row.id, { row, view });
		if (this.#views.size > VIEW_CACHE_MAX) {
			const oldest = this.#views.keys().next().value;
			if (oldest !== undefined) this.#views.delete(oldest);
		}
		return view;
	}
}

/** What a batch does to each conversation it touches. */
class Bumps {
	#byPeer = new Map<string, { at: number; unread: number; readUpTo: number }>();

	add(peer: string, at: number, unread: boolean): void {
		const bump = this.get(peer);
		bump.at = Math.max(bump.at, at);
		if (unread) bump.unread++;
	}

	/** The conversation is read at least up to `upTo`. */
	readTo(peer: string, upTo: number): void {
		const bump = this.get(peer);
		bump.readUpTo = Math.max(bump.readUpTo, upTo);
	}

	/** The conversation changed (its last message may have), without new activity. */
	touch(peer: string): void {
		this.get(peer);
	}

	get(peer: string): { at: number; unread: number; readUpTo: number } {
		let bump = this.#byPeer.get(peer);
		if (!bump) {
			bump = { at: 0, unread: 0, readUpTo: 0 };
			this.#byPeer.set(peer, bump);
		}
		return bump;
	}

	peers(): Iterable<string> {
		return this.#byPeer.keys();
	}
}

function sameRow(a: MessageRow, b: MessageRow): boolean {
	return (
		a.status === b.status &&
		a.order === b.order &&
		a.sentAt === b.sentAt &&
		a.storedAt === b.storedAt &&
		a.unlockAt === b.unlockAt &&
		a.releasedAt === b.releasedAt &&
		a.announce === b.announce &&
		a.problem === b.problem &&
		a.error === b.error &&
		a.expiresAt === b.expiresAt &&
		a.text?.ciphertext === b.text?.ciphertext
	);
}

/** A time-lock cancelled before it opened, placed where it was sent. */
function cancelledRow(row: MessageRow): MessageRow {
	return { ...row, status: 'cancelled', order: orderOf({ ...row, state: 'cancelled' }) };
}

function activityTime(m: DecodedMessage): number {
	return m.releasedAt ?? m.storedAt ?? m.sentAt;
}

/** The name, type and size of a row's sealed file body, or null (none, or it does not open). */
function fileOf(sealed: MessageRow['file'], localKey: Uint8Array): MessageView['file'] {
	if (!sealed) return null;
	try {
		const { name, mime, size, thumbnail } = JSON.parse(openText(sealed, localKey)) as FileBody;
		return { name, mime, size, thumbnail };
	} catch {
		return null;
	}
}
