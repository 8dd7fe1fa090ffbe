import { t } from '../i18n';
import { LIMITS, type SessionEnded, type StoredEnvelope } from '../protocol';
import { call, connectHub, overlapCursor, type HubSocket } from '../sdk';
import { AccountDb } from './db';
import { notifier } from './notify.svelte';
import { PendingDb } from './pending';

/** At most one "something arrived" notice this often, however much arrives. */
const NOTICE_EVERY_MS = 60_000;
/** How long a refused or failed handshake waits before the inbox tries again. */
const RETRY_MS = 5_000;

export interface LockedInboxEvents {
	/** The hub ended or refused the session: nothing more arrives until the user signs in again. */
	ended(reason: SessionEnded['reason']): void;
}

/**
 * What an app locked after idle keeps doing. Its session stays signed in and its socket open, so
 * the device keeps receiving; but it holds no key, so envelopes are kept as they came, end-to-end
 * ciphertext (pending.ts), for the engine to open on unlock. Receipts still go out (the device has
 * the messages), and the notice says only that something arrived, never from whom.
 */
export class LockedInbox {
	readonly #username: string;
	readonly #events: LockedInboxEvents;
	readonly #socket: HubSocket;
	readonly #pending: PendingDb;
	readonly #history: AccountDb;
	/** How far this inbox has read; the history's own cursor moves only when the engine stores. */
	#cursor: string | null = null;
	#queue: Promise<void> = Promise.resolve();
	#waiting = $state(0);
	#lastNotice = -Infinity;
	#retry: ReturnType<typeof setTimeout> | null = null;

	constructor(username: string, events: LockedInboxEvents) {
		this.#username = username;
		this.#events = events;
		this.#socket = connectHub('', { autoConnect: false });
		this.#pending = new PendingDb(username);
		this.#history = new AccountDb(username);
	}

	/** Messages to this user that arrived while locked and wait to be opened. */
	get waiting(): number {
		return this.#waiting;
	}

	async start(): Promise<void> {
		this.#cursor = await this.#history.cursor();
		this.#waiting = (await this.#pending.all()).filter((e) => this.#isIncoming(e)).length;
		const socket = this.#socket;
		socket.on('connect', () => void this.#serial(() => this.#sync()));
		socket.on('sync:hint', () => void this.#serial(() => this.#sync()));
		socket.on('message:new', (envelope) => void this.#serial(() => this.#keep([envelope])));
		socket.on('session:ended', ({ reason }) => this.#end(reason));
		socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
			if (error.data?.code === 'UNAUTHENTICATED') this.#end('expired');
			// A refusal for another reason is not retried by Socket.IO itself.
			else if (!socket.active) this.#retry = setTimeout(() => socket.connect(), RETRY_MS);
		});
		socket.connect();
	}

	stop(): void {
		if (this.#retry) clearTimeout(this.#retry);
		this.#socket.removeAllListeners();
		this.#socket.disconnect();
		this.#pending.close();
		this.#history.close();
	}

	#end(reason: SessionEnded['reason']): void {
		this.stop();
		this.#events.ended(reason);
	}

	#serial(job: () => Promise<void>): Promise<void> {
		const run = this.#queue.then(job).catch((error: unknown) => {
			// Offline or a hub fault: the next connect reads again from this inbox's cursor.
			console.warn('hourglass: locked inbox', error);
		});
		this.#queue = run;
		return run;
	}

	/** Everything after this inbox's cursor, page by page, kept as it comes. */
	async #sync(): Promise<void> {
		let after = overlapCursor(this.#cursor);
		for (;;) {
			const page = await call(this.#socket, 'sync:pull', { after, limit: LIMITS.syncPageMax });
			await this.#keep(page.envelopes);
			if (page.cursor && (this.#cursor === null || page.cursor > this.#cursor)) this.#cursor = page.cursor;
			if (!page.more || page.cursor === after) return;
			after = page.cursor;
		}
	}

	async #keep(envelopes: StoredEnvelope[]): Promise<void> {
		if (envelopes.length === 0) return;
		// What the history holds already (the sync overlaps it) needs nothing more; an announced
		// time-lock it shows as sealed does, once released.
		const known = await this.#history.messages.bulkGet(envelopes.map((e) => e.id));
		const fresh = envelopes.filter((_, i) => !known[i] || known[i].status === 'sealed');
		if (fresh.length === 0) return;
		await this.#pending.keep(fresh);
		const incoming = fresh.filter((e) => this.#isIncoming(e));
		if (incoming.length === 0) return;
		// A control envelope (a read receipt) is acknowledged like any other, but is no news.
		const news = incoming.filter((e) => e.kind !== 'control');
		if (news.length > 0) {
			this.#waiting += news.length;
			this.#notice();
		}
		await this.#receipt(incoming.map((e) => e.id));
	}

	#isIncoming(envelope: StoredEnvelope): boolean {
		return (
			envelope.to === this.#username && envelope.from !== this.#username && envelope.state !== 'cancelled'
		);
	}

	async #receipt(ids: string[]): Promise<void> {
		for (let i = 0; i < ids.length; i += LIMITS.receiptIdsMax) {
			await call(this.#socket, 'message:received', { ids: ids.slice(i, i + LIMITS.receiptIdsMax) });
		}
	}

	#notice(): void {
		const now = Date.now();
		if (now - this.#lastNotice < NOTICE_EVERY_MS) return;
		this.#lastNotice = now;
		notifier.announce('info', t('inbox.arrived'), t('inbox.unlock'), null);
	}
}
