import { Dexie } from 'dexie';
import type { SealedNotice } from '../protocol';
import type { DecodedMessage } from '../sdk';
import { openText, sealText, type AccountDb, type MessageRow } from './db';
import { orderOf } from './timeline';

/** A message as the UI shows it: the text opened from its sealed form, or null. */
export interface MessageView extends Omit<MessageRow, 'text'> {
	text: string | null;
}

export interface ConversationView {
	peer: string;
	lastAt: number;
	unread: number;
	last: MessageView | null;
}

/** Most messages of one conversation kept on screen. */
const VIEW_LIMIT = 1000;

/**
 * The conversations of one account: the list, the open conversation's messages, and every write
 * to them (all of which go through IndexedDB first, so the history survives a reload or going offline).
 */
export class Conversations {
	#db: AccountDb;
	#localKey: Uint8Array;
	#list = $state.raw<ConversationView[]>([]);
	#peer = $state<string | null>(null);
	#messages = $state.raw<MessageView[]>([]);
	/** Opened texts, so a refresh does not decrypt the whole history again. Not reactive: a cache. */
	#texts = new Map<string, string>(); // eslint-disable-line svelte/prefer-svelte-reactivity -- a cache, never read by a template

	constructor(db: AccountDb, localKey: Uint8Array) {
		this.#db = db;
		this.#localKey = localKey;
	}

	get list(): ConversationView[] {
		return this.#list;
	}

	/** The conversation on screen, if any. */
	get peer(): string | null {
		return this.#peer;
	}

	get messages(): MessageView[] {
		return this.#messages;
	}

	get unreadTotal(): number {
		return this.#list.reduce((n, c) => n + c.unread, 0);
	}

	async load(): Promise<void> {
		await this.#refresh(null);
	}

	/** Shows a conversation and marks it read. */
	async open(peer: string): Promise<void> {
		this.#peer = peer;
		this.#messages = [];
		await this.#db.transaction('rw', this.#db.conversations, async () => {
			const row = await this.#db.conversations.get(peer);
			if (row) await this.#db.conversations.update(peer, { unread: 0 });
		});
		await this.#refresh(peer);
	}

	async markRead(peer: string): Promise<void> {
		const row = await this.#db.conversations.get(peer);
		if (!row || row.unread === 0) return;
		await this.#db.conversations.update(peer, { unread: 0 });
		await this.#refresh(null);
	}

	close(peer: string): void {
		if (this.#peer !== peer) return;
		this.#peer = null;
		this.#messages = [];
	}

	/** Makes sure the conversation exists (a new conversation starts empty). */
	async ensure(peer: string, at: number): Promise<void> {
		const exists = await this.#db.conversations.get(peer);
		if (!exists) await this.#db.conversations.put({ peer, lastAt: at, unread: 0 });
		await this.#refresh(peer);
	}

	/**
	 * Stores envelopes from the hub, dropping those already held (delivery is at-least-once).
	 * Returns the incoming messages that are new to this device, for receipts and notifications.
	 */
	async ingest(messages: DecodedMessage[]): Promise<DecodedMessage[]> {
		if (messages.length === 0) return [];
		const fresh: DecodedMessage[] = [];
		const touched: string[] = [];
		await this.#db.transaction('rw', this.#db.messages, this.#db.conversations, async () => {
			for (const m of messages) {
				const existing = await this.#db.messages.get(m.id);
				if (m.state === 'cancelled') {
					// Our own time-lock, cancelled from another device while this one was away.
					if (m.direction === 'out' && existing && existing.status !== 'cancelled') {
						await this.#db.messages.update(m.id, { status: 'cancelled' });
						touched.push(m.peer);
					}
					continue;
				}
				if (m.direction === 'in') {
					if (existing && existing.status !== 'sealed') continue;
					await this.#db.messages.put(this.#rowOf(m));
					fresh.push(m);
					await this.#bump(m.peer, activityTime(m), !this.#isWatching(m.peer));
				} else if (existing) {
					// Our own message coming back (another device, or a resend): keep its delivery state.
					await this.#db.messages.update(m.id, {
						storedAt: existing.storedAt ?? m.storedAt,
						releasedAt: m.releasedAt,
						order: orderOf(m),
						status: existing.status === 'sending' || existing.status === 'failed' ? 'sent' : existing.status,
					});
				} else {
					await this.#db.messages.put(this.#rowOf(m));
					await this.#bump(m.peer, activityTime(m), false);
				}
				touched.push(m.peer);
			}
		});
		await this.#refreshMany(touched);
		return fresh;
	}

	/** Announced time-locks: a placeholder with the sender and the unlock date, and nothing to read. */
	async addSealed(notices: SealedNotice[]): Promise<SealedNotice[]> {
		const fresh: SealedNotice[] = [];
		await this.#db.transaction('rw', this.#db.messages, this.#db.conversations, async () => {
			for (const n of notices) {
				if (await this.#db.messages.get(n.id)) continue;
				await this.#db.messages.put({
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
				await this.#bump(n.from, n.sentAt, !this.#isWatching(n.from));
				fresh.push(n);
			}
		});
		await this.#refreshMany(fresh.map((n) => n.from));
		return fresh;
	}

	/** Drops placeholders the hub no longer holds sealed and did not deliver: they were cancelled. */
	async reconcileSealed(stillSealed: Set<string>): Promise<void> {
		const stale = (await this.#db.messages.where('status').equals('sealed').toArray()).filter(
			(row) => !stillSealed.has(row.id),
		);
		if (stale.length === 0) return;
		await this.#db.messages.bulkDelete(stale.map((row) => row.id));
		await this.#refreshMany(stale.map((row) => row.peer));
	}

	/** A time-lock cancelled by its sender: the recipient's placeholder goes, the sender's copy says so. */
	async cancelled(id: string): Promise<void> {
		const row = await this.#db.messages.get(id);
		if (!row) return;
		if (row.direction === 'in') {
			if (row.status === 'sealed') await this.#db.messages.delete(id);
		} else {
			await this.#db.messages.update(id, { status: 'cancelled' });
		}
		await this.#refresh(row.peer);
	}

	async markDelivered(receipts: { id: string; at: number }[]): Promise<void> {
		if (receipts.length === 0) return;
		const touched: string[] = [];
		await this.#db.transaction('rw', this.#db.messages, async () => {
			for (const receipt of receipts) {
				const row = await this.#db.messages.get(receipt.id);
				if (!row || row.direction !== 'out' || row.status === 'delivered') continue;
				await this.#db.messages.update(receipt.id, { status: 'delivered' });
				touched.push(row.peer);
			}
		});
		await this.#refreshMany(touched);
	}

	/** A message written here, before the hub has it. */
	async addOutgoing(row: Omit<MessageRow, 'text'>, text: string): Promise<void> {
		await this.#db.transaction('rw', this.#db.messages, this.#db.conversations, async () => {
			await this.#db.messages.put({ ...row, text: sealText(text, this.#localKey) });
			await this.#bump(row.peer, row.sentAt, false);
		});
		this.#texts.set(row.id, text);
		await this.#refresh(row.peer);
	}

	async updateOutgoing(id: string, patch: Partial<Omit<MessageRow, 'id' | 'text'>>): Promise<void> {
		const row = await this.#db.messages.get(id);
		if (!row) return;
		// A receipt can overtake the send's acknowledgement: never step back from "delivered".
		if (row.status === 'delivered' && patch.status === 'sent') delete patch.status;
		await this.#db.messages.update(id, patch);
		await this.#refresh(row.peer);
	}

	#isWatching(peer: string): boolean {
		return this.#peer === peer && document.visibilityState === 'visible';
	}

	async #bump(peer: string, at: number, unread: boolean): Promise<void> {
		const row = await this.#db.conversations.get(peer);
		await this.#db.conversations.put({
			peer,
			lastAt: Math.max(row?.lastAt ?? 0, at),
			unread: (row?.unread ?? 0) + (unread ? 1 : 0),
		});
	}

	/** A decoded message as stored on this device: incoming ones are "received", our own "sent". */
	#rowOf(m: DecodedMessage): MessageRow {
		if (m.text !== null) this.#texts.set(m.id, m.text);
		return {
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
			problem: m.problem,
			error: null,
		};
	}

	#view(row: MessageRow): MessageView {
		let text: string | null = null;
		if (row.text) {
			text = this.#texts.get(row.id) ?? null;
			if (text === null) {
				try {
					text = openText(row.text, this.#localKey);
					this.#texts.set(row.id, text);
				} catch {
					text = null;
				}
			}
		}
		return { ...row, text };
	}

	async #lastOf(peer: string): Promise<MessageRow | undefined> {
		return this.#db.messages.where('[peer+order]').between([peer, Dexie.minKey], [peer, Dexie.maxKey]).last();
	}

	async #refreshMany(peers: string[]): Promise<void> {
		await this.#refresh(this.#peer !== null && peers.includes(this.#peer) ? this.#peer : null);
	}

	/** Reloads the list, and the open conversation when `peer` is the one on screen. */
	async #refresh(peer: string | null): Promise<void> {
		const rows = await this.#db.conversations.orderBy('lastAt').reverse().toArray();
		const list: ConversationView[] = [];
		for (const row of rows) {
			const last = await this.#lastOf(row.peer);
			list.push({ ...row, last: last ? this.#view(last) : null });
		}
		this.#list = list;
		if (peer !== null && peer === this.#peer) {
			const rows = await this.#db.messages
				.where('[peer+order]')
				.between([peer, Dexie.minKey], [peer, Dexie.maxKey])
				.reverse()
				.limit(VIEW_LIMIT)
				.toArray();
			if (this.#peer === peer) this.#messages = rows.reverse().map((row) => this.#view(row));
		}
	}
}

function activityTime(m: DecodedMessage): number {
	return m.releasedAt ?? m.storedAt ?? m.sentAt;
}
