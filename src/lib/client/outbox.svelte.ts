import { ProtocolError, type FileBody, type TextBody } from '../protocol';
import type { Messenger } from '../sdk';
import type { Conversations } from './conversations.svelte';
import { orderOf } from './timeline';
import type { AccountDb } from './db';
import { errorText } from './strings';

/** Wait before sending again after the hub did not answer while the socket stayed up. */
const RETRY_MS = 5_000;

export interface ComposeOptions {
	unlockAt: number | null;
	announce: boolean;
}

/**
 * Messages leave through here. Each is sealed and signed at once, stored in IndexedDB (shown as
 * "sending"), then sent in order whenever the hub is reachable. A message the hub refuses stays
 * in the conversation with the hub's reason; nothing written is ever dropped silently.
 */
export class Outbox {
	#db: AccountDb;
	#conversations: Conversations;
	#messenger: Messenger;
	#clock: () => number;
	#pending = $state(0);
	#flushing: Promise<void> | null = null;
	#again = false;
	/** Called after a time-locked message was stored, so the "Sealed" list can refresh. */
	onLocked: () => void = () => {};

	constructor(db: AccountDb, conversations: Conversations, messenger: Messenger, clock: () => number) {
		this.#db = db;
		this.#conversations = conversations;
		this.#messenger = messenger;
		this.#clock = clock;
	}

	/** Messages waiting for the hub. */
	get pending(): number {
		return this.#pending;
	}

	async load(): Promise<void> {
		this.#pending = await this.#db.outbox.count();
	}

	/** Seals a message for `peer` and queues it; throws (before storing anything) if it cannot be sealed. */
	compose(peer: string, text: string, options: ComposeOptions): Promise<void> {
		return this.#queue(peer, { type: 'text', text }, options);
	}

	/** Queues the message of a file already uploaded (src/lib/client/files.svelte.ts), like a text. */
	composeFile(peer: string, file: FileBody, options: ComposeOptions): Promise<void> {
		return this.#queue(peer, file, options);
	}

	async #queue(peer: string, body: TextBody | FileBody, options: ComposeOptions): Promise<void> {
		// The conversation's disappearing timer at the moment of writing, signed into the envelope.
		const expiresAfterMs = await this.#conversations.timerOf(peer);
		const envelope = await this.#messenger.sealBody(peer, body, {
			unlockAt: options.unlockAt,
			announce: options.unlockAt !== null && options.announce,
			expiresAfterMs,
			...(body.type === 'file' ? { fileId: body.fileId } : {}),
		});
		const now = this.#clock();
		await this.#conversations.addOutgoing(
			{
				id: envelope.id,
				peer: envelope.to,
				direction: 'out',
				status: 'sending',
				order: orderOf({ unlockAt: envelope.unlockAt, storedAt: null, sentAt: now }),
				sentAt: envelope.sentAt,
				storedAt: null,
				unlockAt: envelope.unlockAt,
				releasedAt: null,
				announce: envelope.announce,
				problem: null,
				error: null,
				// Our own copy disappears that long after it was written.
				...(expiresAfterMs === null ? {} : { expiresAfterMs, expiresAt: now + expiresAfterMs }),
			},
			body,
		);
		if (expiresAfterMs !== null) this.#conversations.onTimersChanged();
		await this.#db.outbox.add({ id: envelope.id, peer: envelope.to, envelope });
		this.#pending = await this.#db.outbox.count();
		void this.flush();
	}

	/** Sends what waits, oldest first; stops at the first sign the hub is unreachable. */
	flush(): Promise<void> {
		if (this.#flushing) {
			this.#again = true;
			return this.#flushing;
		}
		this.#flushing = (async () => {
			try {
				do {
					this.#again = false;
					await this.#drain();
				} while (this.#again);
			} finally {
				this.#flushing = null;
			}
		})();
		return this.#flushing;
	}

	async #drain(): Promise<void> {
		for (;;) {
			if (!this.#messenger.socket.connected) return;
			const next = await this.#db.outbox.orderBy('seq').first();
			if (!next) return;
			try {
				const result = await this.#messenger.sendEnvelope(next.envelope);
				await this.#conversations.updateOutgoing(next.id, {
					status: 'sent',
					storedAt: result.storedAt,
					order: orderOf({ unlockAt: next.envelope.unlockAt, storedAt: result.storedAt, sentAt: 0 }),
					error: null,
				});
				if (result.state === 'locked') this.onLocked();
			} catch (error) {
				// No answer (the hub may or may not have it; resending the same id is idempotent) or sent too
				// fast: retry later. A quota refusal is not retried: the message shows it, in words.
				if (
					error instanceof ProtocolError &&
					(error.code === 'UNAVAILABLE' || error.code === 'RATE_LIMITED')
				) {
					setTimeout(() => void this.flush(), RETRY_MS);
					return;
				}
				await this.#conversations.updateOutgoing(next.id, { status: 'failed', error: errorText(error) });
			}
			await this.#db.outbox.delete(next.seq!);
			this.#pending = await this.#db.outbox.count();
		}
	}
}
