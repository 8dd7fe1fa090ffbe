import { decodePublicIdentity, fromB64, safetyNumber } from '../crypto';
import type { SessionEnded } from '../protocol';
import {
	ProtocolError,
	UsernameInput,
	type Cancelled,
	type MessageStatus,
	type ClientConfig,
	type DisappearingChoice,
	type SealedNotice,
	type StoredEnvelope,
	type SyncHint,
	type Tombstone,
} from '../protocol';
import {
	ApiError,
	KeyChangedError,
	Messenger,
	Receipts,
	SYNC_BACKOFF,
	backoffDelay,
	isRetryable,
	type Account,
	type DecodedMessage,
	type HubApi,
	type PinnedKeys,
} from '../sdk';
import { Connection } from './connection.svelte';
import { Conversations } from './conversations.svelte';
import { AccountDb, DexiePinStore } from './db';
import { notifier } from './notify.svelte';
import { Outbox, type ComposeOptions } from './outbox.svelte';
import { Expiry } from './expiry.svelte';
import { dropPending, pendingEnvelopes } from './pending';
import { describeCountdown } from './strings';
import { Timelocks } from './timelocks.svelte';

export interface EngineEvents {
	/** The hub ended the session (logout elsewhere in this browser, expiry, revocation). */
	signedOut(reason: SessionEnded['reason']): void;
}

/**
 * Everything one unlocked account runs: the socket, the sync engine, the outbox, the time-locks.
 * Writes from the hub are applied one batch at a time (a sync page, or the live messages that came
 * in meanwhile), each in one transaction, so a message that arrives live while a sync is under way
 * is stored once and in order, and a burst costs a few writes rather than one per message.
 */
export class ChatEngine {
	readonly account: Account;
	readonly db: AccountDb;
	readonly connection: Connection;
	readonly conversations: Conversations;
	readonly messenger: Messenger;
	readonly outbox: Outbox;
	readonly timelocks: Timelocks;
	readonly receipts: Receipts;
	readonly expiry: Expiry;
	#config: Promise<ClientConfig> | null = null;
	#configView = $state.raw<ClientConfig | null>(null);
	#keyAlerts = $state.raw<Record<string, KeyChangedError>>({});
	#syncing = $state(false);
	#syncRetrying = $state(false);
	#queue: Promise<void> = Promise.resolve();
	#syncRun: Promise<void> | null = null;
	#syncAgain = false;
	#hintTimer: ReturnType<typeof setTimeout> | null = null;
	/** Live envelopes waiting for the batch that will store them. */
	#live: StoredEnvelope[] = [];

	constructor(api: HubApi, account: Account, db: AccountDb, events: EngineEvents) {
		this.account = account;
		this.db = db;
		this.connection = new Connection(api, {
			online: () => this.#onOnline(),
			signedOut: (reason) => events.signedOut(reason),
		});
		this.messenger = new Messenger({
			api,
			socket: this.connection.socket,
			account,
			pins: new DexiePinStore(db),
		});
		this.conversations = new Conversations(db, account.localKey, () => this.connection.clock.exact());
		this.expiry = new Expiry(this.conversations, this.connection.clock);
		this.conversations.onTimersChanged = () => void this.expiry.run();
		this.outbox = new Outbox(db, this.conversations, this.messenger, () => this.connection.clock.exact());
		this.timelocks = new Timelocks(this.messenger);
		this.receipts = new Receipts(this.messenger, (error) => {
			// Offline: they go again on the next connect.
			if (!(error instanceof ProtocolError && error.code === 'UNAVAILABLE')) {
				console.error('hourglass: receipts failed', error);
			}
		});
		this.outbox.onLocked = () => void this.timelocks.refresh();
	}

	get username(): string {
		return this.account.username;
	}

	get clock() {
		return this.connection.clock;
	}

	/** True while a sync with the hub runs. */
	get syncing(): boolean {
		return this.#syncing;
	}

	/** True while a sync that timed out or met a hub fault waits to be tried again. */
	get syncRetrying(): boolean {
		return this.#syncRetrying;
	}

	async start(): Promise<void> {
		await this.conversations.load();
		await this.outbox.load();
		// What disappeared while the app was closed goes before anything is shown.
		await this.expiry.run();
		const socket = this.connection.socket;
		socket.on('message:new', (envelope) => this.#onLive(envelope));
		socket.on('message:status', (status) => void this.#serial(() => this.#onStatus(status)));
		socket.on('timelock:sealed', (notice) => void this.#serial(() => this.#onSealed(notice)));
		socket.on('timelock:cancelled', (event) => void this.#serial(() => this.#onCancelled(event)));
		socket.on('message:deleted', (tombstone) => void this.#serial(() => this.#onDeleted(tombstone)));
		socket.on('sync:hint', (hint) => this.#onHint(hint));
		// What arrived while the app was locked opens first, with or without the network.
		void this.#serial(() => this.#openPending());
		this.connection.start();
	}

	stop(): void {
		this.connection.socket.off('message:new');
		this.connection.socket.off('message:status');
		this.connection.socket.off('timelock:sealed');
		this.connection.socket.off('timelock:cancelled');
		this.connection.socket.off('message:deleted');
		this.connection.socket.off('sync:hint');
		this.expiry.stop();
		if (this.#hintTimer) clearTimeout(this.#hintTimer);
		this.conversations.stop();
		this.connection.stop();
		this.db.close();
	}

	/** Validates a username, fetches and pins the peer's keys, and opens an empty conversation. */
	async startConversation(input: string): Promise<string> {
		const parsed = UsernameInput.safeParse(input);
		if (!parsed.success) throw new Error('A username has 3 to 32 letters, digits, "_", "." or "-".');
		const peer = parsed.data;
		if (peer === this.username) throw new Error('That is you. Start a conversation with someone else.');
		const pinned = await this.db.pins.get(peer);
		if (!pinned) {
			if (this.connection.state !== 'online') {
				throw new ApiError('UNAVAILABLE', 'Connect to the hub to start a new conversation.', 0);
			}
			await this.messenger.peerKeys(peer);
		}
		await this.conversations.ensure(peer, this.clock.exact());
		return peer;
	}

	async openConversation(peer: string): Promise<void> {
		notifier.dismissPeer(peer);
		await this.conversations.open(peer);
		if (this.connection.state === 'online') await this.checkKeys(peer);
	}

	/** Compares the peer's published keys with the pinned ones; a change blocks sending. */
	async checkKeys(peer: string): Promise<void> {
		try {
			await this.messenger.peerKeys(peer, { refresh: true });
			this.#setAlert(peer, null);
		} catch (error) {
			if (error instanceof KeyChangedError) this.#setAlert(peer, error);
			// Offline or the hub is busy: keep what is pinned, check again on the next connect.
		}
	}

	keyAlert(peer: string): KeyChangedError | null {
		return this.#keyAlerts[peer] ?? null;
	}

	/** The user compared the new safety number and accepts the new keys. */
	async acceptKeys(peer: string): Promise<void> {
		const alert = this.keyAlert(peer);
		if (!alert) return;
		await this.messenger.acceptKeyChange(alert);
		this.#setAlert(peer, null);
	}

	async pinnedKeys(peer: string): Promise<PinnedKeys | undefined> {
		return this.db.pins.get(peer);
	}

	/** The safety number of this account and `peer`'s pinned keys, as 12 groups of 5 digits. */
	async safetyNumber(peer: string): Promise<string | null> {
		const pin = await this.pinnedKeys(peer);
		if (!pin) return null;
		return safetyNumber(
			{ username: this.username, keys: decodePublicIdentity(this.account.user.identity) },
			{ username: peer, keys: { signPk: fromB64(pin.signPk), boxPk: fromB64(pin.boxPk) } },
		);
	}

	/** Queues a message; refuses while the peer's keys changed and the user has not accepted them. */
	async send(peer: string, text: string, options: ComposeOptions): Promise<void> {
		const alert = this.keyAlert(peer);
		if (alert) throw alert;
		try {
			await this.outbox.compose(peer, text, options);
		} catch (error) {
			if (error instanceof KeyChangedError) this.#setAlert(peer, error);
			throw error;
		}
	}

	async cancelLock(id: string): Promise<void> {
		await this.timelocks.cancel(id);
		await this.conversations.cancelled(id);
	}

	/** The hub's delete window and disappearing timers, asked once per unlock. */
	clientConfig(): Promise<ClientConfig> {
		this.#config ??= this.messenger.api.clientConfig().then(
			(config) => (this.#configView = config),
			(error: unknown) => {
				this.#config = null;
				throw error;
			},
		);
		return this.#config;
	}

	/** The same, for templates: null until first fetched (on the first connect). */
	get config(): ClientConfig | null {
		return this.#configView;
	}

	/** Delete for me: every device of this account forgets the message (needs the hub); the peer keeps theirs. */
	async deleteForMe(id: string): Promise<void> {
		await this.messenger.forget(id);
		await this.conversations.forget([id]);
	}

	/** Delete for everyone, of our own message within the hub's window: both sides show "message deleted". */
	async deleteForEveryone(id: string): Promise<void> {
		const { outcome } = await this.messenger.deleteForEveryone(id);
		if (outcome === 'cancelled') {
			this.timelocks.remove(id);
			await this.conversations.cancelled(id);
		} else {
			await this.conversations.markDeleted([{ id }]);
		}
	}

	/** Sets the disappearing timer with `peer` for both sides; the line shows here at once. */
	async setTimer(peer: string, choice: DisappearingChoice | 'off'): Promise<void> {
		const expiresAfterMs = choice === 'off' ? null : (await this.clientConfig()).disappearingTimers[choice];
		const envelope = await this.messenger.sealControl(peer, { type: 'timer', expiresAfterMs });
		const result = await this.messenger.sendEnvelope(envelope);
		// The hub pushes it to our other devices, not back to this socket: it is stored here as they store it.
		const stored: StoredEnvelope = {
			...envelope,
			state: 'live',
			storedAt: result.storedAt,
			releasedAt: null,
			syncKey: result.syncKey,
		};
		await this.#exclusive(
			async () => void (await this.conversations.ingest([await this.messenger.open(stored)])),
		);
	}

	#setAlert(peer: string, alert: KeyChangedError | null): void {
		const next = { ...this.#keyAlerts };
		if (alert) next[peer] = alert;
		else delete next[peer];
		this.#keyAlerts = next;
	}

	/** Runs `job` after every write queued before it; the returned promise carries its outcome. */
	#exclusive(job: () => Promise<void>): Promise<void> {
		const run = this.#queue.then(job);
		this.#queue = run.catch(() => undefined);
		return run;
	}

	#serial(job: () => Promise<void>): Promise<void> {
		return this.#exclusive(job).catch((error: unknown) => {
			// The connection dropped mid-step: the next connect syncs again from the stored cursor.
			if (error instanceof ProtocolError && error.code === 'UNAVAILABLE') return;
			console.error('hourglass: sync step failed', error);
		});
	}

	/** Syncs now; asked while a sync runs, runs once more after it (what prompted it may be newer). */
	#requestSync(): Promise<void> {
		if (this.#syncRun) {
			this.#syncAgain = true;
			return this.#syncRun;
		}
		this.#syncRun = (async () => {
			try {
				do {
					this.#syncAgain = false;
					await this.#pullRetrying();
				} while (this.#syncAgain);
			} finally {
				this.#syncRun = null;
			}
		})();
		return this.#syncRun;
	}

	/**
	 * A sync that timed out or met a hub fault (a busy hub after a reconnect) is tried again with
	 * capped, jittered backoff while the socket is up, not shown as a failure; success clears it.
	 */
	async #pullRetrying(): Promise<void> {
		for (let attempt = 0; ; attempt++) {
			try {
				await this.#exclusive(() => this.#pull());
				this.#syncRetrying = false;
				return;
			} catch (error) {
				const connected = this.connection.socket.connected;
				if (!isRetryable(error) || !connected) {
					this.#syncRetrying = false;
					// Offline: the next connect syncs again from the stored cursor.
					if (connected) console.error('hourglass: sync failed', error);
					return;
				}
				this.#syncRetrying = true;
				await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, SYNC_BACKOFF)));
			}
		}
	}

	// Each hub whose Redis link came back hints: one sync, at a random moment within the window, serves them all.
	#onHint(hint: SyncHint): void {
		if (this.#hintTimer || this.connection.state !== 'online') return;
		this.#hintTimer = setTimeout(
			() => {
				this.#hintTimer = null;
				void this.#requestSync();
			},
			Math.round(Math.random() * hint.withinMs),
		);
	}

	async #onOnline(): Promise<void> {
		// Kept envelopes from a peer whose keys were not pinned yet could not open offline.
		void this.#serial(() => this.#openPending());
		void this.receipts.flush();
		void this.clientConfig().catch(() => undefined);
		await this.#requestSync();
		await this.outbox.flush();
		await this.timelocks.refresh();
		const open = this.conversations.peer;
		if (open) await this.checkKeys(open);
	}

	/** Pulls every page after the stored cursor, stores it, and acknowledges what arrived. */
	async #pull(): Promise<void> {
		this.#syncing = true;
		try {
			const stillSealed = new Set<string>(); // eslint-disable-line svelte/prefer-svelte-reactivity -- local to this sync
			let cursor = await this.db.cursor();
			const unlocked: DecodedMessage[] = [];
			await this.messenger.syncAll(cursor, async (page) => {
				const fresh = await this.conversations.ingest(page.messages);
				for (const notice of page.sealed) stillSealed.add(notice.id);
				await this.conversations.addSealed(page.sealed);
				await this.conversations.markDelivered(page.delivered);
				await this.conversations.markDeleted(page.deletions);
				// Not awaited: the next page does not wait for this one's receipts.
				void this.receipts.add(page.messages.filter(isDelivery).map((m) => m.id));
				unlocked.push(...fresh.filter((m) => m.unlockAt !== null));
				if (page.cursor && (cursor === null || page.cursor > cursor)) {
					cursor = page.cursor;
					await this.db.saveCursor(cursor);
				}
			});
			await this.conversations.reconcileSealed(stillSealed);
			for (const m of unlocked.slice(-3)) this.#announceUnlock(m);
		} finally {
			this.#syncing = false;
		}
	}

	/** Queues a live envelope; one job stores everything that arrived while the previous one ran. */
	#onLive(envelope: StoredEnvelope): void {
		this.#live.push(envelope);
		if (this.#live.length > 1) return;
		void this.#serial(async () => {
			const batch = this.#live;
			this.#live = [];
			await this.#onMessages(batch);
		});
	}

	/** Opens the envelopes the locked app kept (pending.ts) like live ones, then lets them go. */
	async #openPending(): Promise<void> {
		const kept = await pendingEnvelopes(this.username);
		if (kept.length === 0) return;
		await this.#onMessages(kept);
		await dropPending(
			this.username,
			kept.map((e) => e.id),
		);
	}

	async #onMessages(envelopes: StoredEnvelope[]): Promise<void> {
		const decoded = await this.messenger.openAll(envelopes);
		const changedKeys = new Set(decoded.filter((m) => m.problem === 'key-changed').map((m) => m.peer)); // eslint-disable-line svelte/prefer-svelte-reactivity -- local to this batch
		for (const peer of changedKeys) await this.checkKeys(peer);
		const fresh = await this.conversations.ingest(decoded);
		void this.receipts.add(decoded.filter(isDelivery).map((m) => m.id));
		this.#announce(fresh);
	}

	/** Unlocked time-locks one by one (the last few); other new messages once per conversation not in view. */
	#announce(fresh: DecodedMessage[]): void {
		const unlocked = fresh.filter((m) => m.unlockAt !== null);
		for (const m of unlocked.slice(-3)) this.#announceUnlock(m);
		const byPeer = new Map<string, DecodedMessage[]>(); // eslint-disable-line svelte/prefer-svelte-reactivity -- local to this batch
		for (const m of fresh) {
			if (m.unlockAt !== null || m.direction !== 'in') continue;
			if (this.conversations.peer === m.peer && document.visibilityState === 'visible') continue;
			byPeer.set(m.peer, [...(byPeer.get(m.peer) ?? []), m]);
		}
		for (const [peer, messages] of byPeer) {
			const last = messages[messages.length - 1];
			const title =
				messages.length === 1 ? `New message from ${peer}` : `${messages.length} new messages from ${peer}`;
			notifier.announce('info', title, last.text ?? '', peer);
		}
	}

	async #onStatus(status: MessageStatus): Promise<void> {
		await this.conversations.markDelivered([{ id: status.id, at: status.at }]);
	}

	async #onSealed(notice: SealedNotice): Promise<void> {
		const fresh = await this.conversations.addSealed([notice]);
		if (fresh.length === 0) return;
		const wait = describeCountdown(notice.unlockAt - this.clock.exact());
		notifier.announce(
			'info',
			`${notice.from} sent you a time-locked message`,
			`It unlocks in ${wait}.`,
			notice.from,
		);
	}

	async #onCancelled(event: Cancelled): Promise<void> {
		if (event.from === this.username) this.timelocks.remove(event.id);
		await this.conversations.cancelled(event.id);
	}

	/** A deletion for everyone, kept only when its signature is its sender's. */
	async #onDeleted(tombstone: Tombstone): Promise<void> {
		const checked = await this.messenger.checkTombstone(tombstone);
		if (checked) await this.conversations.markDeleted([checked]);
	}

	#announceUnlock(m: DecodedMessage): void {
		notifier.announce('unlock', `Time-locked message from ${m.peer} unlocked`, m.text ?? '', m.peer);
	}
}

/** Envelopes this device acknowledges: those addressed to us, our own control envelopes to ourselves included. */
function isDelivery(m: DecodedMessage): boolean {
	return m.direction === 'in' || m.from === m.to;
}
