import { t } from '../i18n';
import { decodePublicIdentity, fromB64, safetyNumber } from '../crypto';
import type { SessionEnded } from '../protocol';
import {
	ProtocolError,
	UsernameInput,
	type Cancelled,
	type ContactCard,
	type ContactChanged,
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
	ReadSync,
	Receipts,
	SYNC_BACKOFF,
	addContactFromCard,
	backoffDelay,
	checkSafetyCode,
	isRetryable,
	readMarkerOf,
	readReceiptOf,
	receiptsSettingOf,
	type Account,
	type DecodedMessage,
	type HubApi,
	type PinnedKeys,
	type SafetyCheck,
} from '../sdk';
import { Connection } from './connection.svelte';
import { Contacts } from './contacts.svelte';
import { Conversations, type ConversationView } from './conversations.svelte';
import { AccountDb, DexiePinStore, type ReceiptsSetting } from './db';
import { notifier } from './notify.svelte';
import { Outbox, type ComposeOptions } from './outbox.svelte';
import { FileUploads } from './files.svelte';
import { FileDownloads } from './files-download.svelte';
import { Expiry } from './expiry.svelte';
import { MessageSearch } from './search.svelte';
import { dropPending, pendingEnvelopes } from './pending';
import { describeCountdown } from './strings';
import { orderOf } from './timeline';
import { Timelocks } from './timelocks.svelte';
import { VerifiedPeers } from './verified.svelte';

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
	readonly contacts: Contacts;
	/** Files being sent, and downloads with their offline copies. */
	readonly uploads: FileUploads;
	readonly downloads: FileDownloads;
	/** Local full-text search; its index is built when the person first searches, then follows every write. */
	readonly search: MessageSearch;
	/** Conversations with contacts (and with oneself): the chat list. */
	#chats = $derived.by(() =>
		this.conversations.list.filter(
			(c) => c.peer === this.username || this.contacts.stateOf(c.peer) === 'accepted',
		),
	);
	/** Conversations with strangers who wrote first: message requests, until accepted, declined or blocked. */
	#requests = $derived.by(() =>
		this.conversations.list.filter((c) => c.peer !== this.username && this.contacts.stateOf(c.peer) === null),
	);
	readonly verified: VerifiedPeers;
	/** Read markers to this account's other devices and read receipts to peers, coalesced. */
	readonly readSync: ReadSync;
	#receiptsSetting = $state.raw<ReceiptsSetting>({ on: false, at: 0 });
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
		this.contacts = new Contacts(db, api, account.localKey);
		this.search = new MessageSearch(db, account.localKey);
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
		this.uploads = new FileUploads(db, this.messenger, this.outbox, account.localKey, () => {
			return this.connection.socket.connected;
		});
		this.downloads = new FileDownloads(db, api, account.localKey);
		this.conversations.onRemoved = () => void this.downloads.sweep();
		this.verified = new VerifiedPeers(db);
		this.readSync = new ReadSync(this.messenger, {
			receipts: () => this.#receiptsSetting.on,
			onError: (error) => {
				// Offline: they go with the next connect's flush.
				if (!(error instanceof ProtocolError && error.code === 'UNAVAILABLE')) {
					console.error('hourglass: read state failed', error);
				}
			},
		});
		this.conversations.wantReceiptIds = () => this.#receiptsSetting.on;
		this.conversations.onRead = (read) => this.readSync.read(read.peer, read.upTo, read.ids);
	}

	/** Read receipts (off by default): when on, peers learn what this account read, and it sees what they read. */
	get receiptsOn(): boolean {
		return this.#receiptsSetting.on;
	}

	/** Turns read receipts on or off for every device of the account (an encrypted note to itself). */
	async setReceipts(on: boolean): Promise<void> {
		if (this.connection.state !== 'online') {
			throw new ApiError('UNAVAILABLE', t('engine.offlineSetting'), 0);
		}
		const { result } = await this.messenger.sendControl(this.username, { type: 'receipts-setting', on });
		await this.#applySetting({ on, at: result.storedAt });
	}

	get username(): string {
		return this.account.username;
	}

	/** The chat list: conversations with contacts; requests and blocked people are not in it. */
	get chats(): ConversationView[] {
		return this.#chats;
	}

	get requests(): ConversationView[] {
		return this.#requests;
	}

	get chatUnread(): number {
		return this.#chats.reduce((n, c) => n + c.unread, 0);
	}

	/** Whether `peer`'s conversation is a message request (a stranger wrote first). */
	isRequest(peer: string): boolean {
		return peer !== this.username && this.contacts.stateOf(peer) === null;
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
		await this.contacts.load();
		this.#receiptsSetting = await this.db.receiptsSetting();
		await this.conversations.load();
		await this.outbox.load();
		await this.uploads.load();
		// Then what a reload interrupted shows as paused, to resume from what it kept.
		void this.downloads.sweep().then(() => this.downloads.load());
		this.verified.start();
		// What disappeared while the app was closed goes before anything is shown.
		await this.expiry.run();
		const socket = this.connection.socket;
		socket.on('message:new', (envelope) => this.#onLive(envelope));
		socket.on('message:status', (status) => void this.#serial(() => this.#onStatus(status)));
		socket.on('timelock:sealed', (notice) => void this.#serial(() => this.#onSealed(notice)));
		socket.on('timelock:cancelled', (event) => void this.#serial(() => this.#onCancelled(event)));
		socket.on('message:deleted', (tombstone) => void this.#serial(() => this.#onDeleted(tombstone)));
		socket.on('sync:hint', (hint) => this.#onHint(hint));
		socket.on('contacts:changed', (change) => void this.#serial(() => this.#onContactChanged(change)));
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
		this.connection.socket.off('contacts:changed');
		this.contacts.stop();
		this.uploads.stop();
		this.expiry.stop();
		if (this.#hintTimer) clearTimeout(this.#hintTimer);
		this.readSync.stop();
		this.conversations.stop();
		this.verified.stop();
		this.search.stop();
		this.connection.stop();
		this.db.close();
	}

	/** Validates a username, fetches and pins the peer's keys, and opens an empty conversation. */
	async startConversation(input: string): Promise<string> {
		const parsed = UsernameInput.safeParse(input);
		if (!parsed.success) throw new Error('A username has 3 to 32 letters, digits, "_", "." or "-".');
		const peer = parsed.data;
		if (peer === this.username) throw new Error(t('engine.self'));
		if (this.contacts.stateOf(peer) === 'blocked') {
			throw new Error(t('engine.blocked', { name: peer }));
		}
		const pinned = await this.db.pins.get(peer);
		const known = this.contacts.stateOf(peer) === 'accepted';
		if (!pinned || !known) {
			if (this.connection.state !== 'online') {
				throw new ApiError('UNAVAILABLE', t('engine.offlineStart'), 0);
			}
			if (!pinned) await this.messenger.peerKeys(peer);
			// Writing to someone makes them a contact: their replies go to the chat list, not the requests.
			if (!known) await this.contacts.accept(peer);
		}
		await this.conversations.ensure(peer, this.clock.exact());
		return peer;
	}

	/**
	 * Adds the person on a contact card once their published keys match its fingerprint (pinned
	 * then, replacing an older pin) and opens an empty conversation; a mismatch adds nothing.
	 */
	async addFromCard(card: ContactCard): Promise<string> {
		if (card.username === this.username) throw new Error(t('engine.ownCard'));
		const { contact } = await addContactFromCard(this.messenger, card);
		await this.contacts.apply({
			username: contact.username,
			state: contact.state,
			since: contact.since,
			cleared: false,
		});
		this.#setAlert(contact.username, null);
		await this.conversations.ensure(contact.username, this.clock.exact());
		return contact.username;
	}

	/** Accepts `peer`'s message request: the conversation moves to the chat list. */
	async acceptRequest(peer: string): Promise<void> {
		await this.contacts.accept(peer);
	}

	/** Declines `peer`'s request: the hub deletes their messages to this user, and this device forgets them. */
	async declineRequest(peer: string): Promise<void> {
		await this.contacts.decline(peer);
		await this.conversations.remove(peer);
	}

	/** Blocks `peer`; a pending request of theirs is declined (and forgotten here) at the same time. */
	async block(peer: string): Promise<void> {
		const request = this.isRequest(peer);
		await this.contacts.block(peer);
		if (request) await this.conversations.remove(peer);
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
			if (error instanceof KeyChangedError) await this.#keyChanged(peer, error);
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
		await this.verified.clear(peer);
		this.#setAlert(peer, null);
	}

	/**
	 * Compares a scanned or pasted safety code with the number for `peer`'s pinned keys; a match
	 * marks those keys verified. While a key change waits to be accepted, nothing is compared.
	 */
	async verify(peer: string, text: string): Promise<SafetyCheck> {
		const pin = await this.pinnedKeys(peer);
		const number = await this.safetyNumber(peer);
		if (!pin || !number) throw new Error(`${peer}'s keys are not on this device yet.`);
		if (this.keyAlert(peer)) {
			throw new Error(
				`${peer}'s keys changed: accept the new keys first, then compare the new safety number.`,
			);
		}
		const check = checkSafetyCode(text, this.username, peer, number);
		if (check.result === 'match' && !(await this.verified.mark(pin, Date.now()))) {
			throw new Error(`${peer}'s keys changed while checking: compare the safety number again.`);
		}
		return check;
	}

	/** Takes back the mark: `peer` shows as not verified until compared again. */
	async unverify(peer: string): Promise<void> {
		await this.verified.clear(peer);
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
			if (error instanceof KeyChangedError) await this.#keyChanged(peer, error);
			throw error;
		}
	}

	/** Sends files, each as a message with the composer's time-lock; refused like `send` while the peer's keys changed. */
	async attach(peer: string, files: File[], options: ComposeOptions): Promise<void> {
		const alert = this.keyAlert(peer);
		if (alert) throw alert;
		await this.uploads.attach(peer, files, options, this.connection.clock.exact());
	}

	/**
	 * Sends text too long for one message as a UTF-8 `.txt` file (encrypted like any file), with the
	 * composer's time-lock if one is set: an upload like any attachment (progress, resume, retry).
	 */
	async sendTextAsFile(peer: string, text: string, name: string, options: ComposeOptions): Promise<void> {
		await this.attach(peer, [new File([text], name, { type: 'text/plain' })], options);
	}

	async cancelLock(id: string): Promise<void> {
		await this.timelocks.cancel(id);
		await this.conversations.cancelled(id);
	}

	/** Other keys than the pinned ones: sending stops, and what was verified is no longer. */
	async #keyChanged(peer: string, alert: KeyChangedError): Promise<void> {
		this.#setAlert(peer, alert);
		await this.verified.clear(peer);
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
		// Who is a contact decides where conversations show: known before the sync stores new ones.
		try {
			await this.contacts.refresh();
		} catch (error) {
			if (!(error instanceof ApiError && error.code === 'UNAVAILABLE')) {
				console.error('hourglass: contacts refresh failed', error);
			}
		}
		void this.readSync.flush();
		void this.clientConfig().catch(() => undefined);
		await this.#requestSync();
		await this.outbox.flush();
		this.uploads.resumeAll();
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
			// A device's first sync is history: nothing in it is announced as new. (A device with a
			// cursor has synced before this flag existed.)
			const firstSync = cursor === null && (await this.db.firstSyncAt()) === null;
			const unlocked: DecodedMessage[] = [];
			const { serverNow } = await this.messenger.syncAll(cursor, async (page) => {
				const fresh = await this.conversations.ingest(page.messages);
				for (const notice of page.sealed) stillSealed.add(notice.id);
				await this.conversations.addSealed(page.sealed);
				await this.conversations.markDelivered(page.delivered);
				await this.conversations.markDeleted(page.deletions);
				// After the page's messages, which come before the markers that cover them.
				await this.#applyControl(page.messages);
				// What is news is decided before the open conversation reads it.
				if (!firstSync) unlocked.push(...(await this.#unreadOnly(fresh.filter((m) => m.unlockAt !== null))));
				await this.#readWatched(fresh);
				// Not awaited: the next page does not wait for this one's receipts.
				void this.receipts.add(receiptIds(page.messages, this.username));
				if (page.cursor && (cursor === null || page.cursor > cursor)) {
					cursor = page.cursor;
					await this.db.saveCursor(cursor);
				}
			});
			if (firstSync) await this.db.saveFirstSync(serverNow);
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
		await this.#applyControl(decoded);
		// What is news is decided before the open conversation reads it.
		const news = await this.#unreadOnly(fresh);
		await this.#readWatched(fresh);
		void this.receipts.add(receiptIds(decoded, this.username));
		this.#announce(news);
	}

	/**
	 * Control envelopes, in sync order: read markers from this account's other devices, read
	 * receipts from peers (shown only while this account's receipts are on: they are reciprocal),
	 * and the receipts setting. Anything else, or from anyone else, is ignored.
	 */
	async #applyControl(decoded: DecodedMessage[]): Promise<void> {
		for (const m of decoded) {
			if (m.kind !== 'control') continue;
			const setting = receiptsSettingOf(m, this.username);
			if (setting) await this.#applySetting(setting);
			const marker = readMarkerOf(m, this.username);
			if (marker && (await this.conversations.applyRead(marker.peer, marker.upTo))) {
				notifier.dismissPeer(marker.peer);
			}
			const receipt = readReceiptOf(m, this.username);
			if (receipt && this.#receiptsSetting.on)
				await this.conversations.markReadByPeer(receipt.peer, receipt.ids);
		}
	}

	async #applySetting(setting: ReceiptsSetting): Promise<void> {
		if (setting.at < this.#receiptsSetting.at) return;
		this.#receiptsSetting = setting;
		await this.db.saveReceiptsSetting(setting);
	}

	/** New messages in the conversation on screen are read as they arrive. */
	async #readWatched(fresh: DecodedMessage[]): Promise<void> {
		const open = this.conversations.peer;
		if (
			open &&
			document.visibilityState === 'visible' &&
			fresh.some((m) => m.peer === open && m.direction === 'in')
		) {
			await this.conversations.markRead(open);
		}
	}

	/** Drops messages already read (here or on another device): they are not news. */
	async #unreadOnly(messages: DecodedMessage[]): Promise<DecodedMessage[]> {
		if (messages.length === 0) return messages;
		const peers = [...new Set(messages.map((m) => m.peer))]; // eslint-disable-line svelte/prefer-svelte-reactivity -- local to this batch
		const rows = await this.db.conversations.bulkGet(peers);
		const readUpTo = new Map(rows.filter((r) => r !== undefined).map((r) => [r.peer, r.readUpTo ?? 0])); // eslint-disable-line svelte/prefer-svelte-reactivity -- local to this batch
		return messages.filter((m) => orderOf(m) > (readUpTo.get(m.peer) ?? 0));
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
			const title = this.isRequest(peer)
				? t('toast.request', { name: peer })
				: t('toast.news', { name: peer, count: messages.length });
			notifier.announce('info', title, last.text ?? '', peer);
		}
	}

	async #onContactChanged(change: ContactChanged): Promise<void> {
		await this.contacts.apply(change);
		if (change.cleared) await this.conversations.remove(change.username);
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
			t('toast.sealed', { name: notice.from }),
			t('toast.sealedWhen', { wait }),
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
		notifier.announce('unlock', t('toast.unlocked', { name: m.peer }), m.text ?? '', m.peer);
	}
}

/**
 * What this device acknowledges to the hub: incoming envelopes (the sender sees "delivered") and
 * this account's own envelopes to itself (read markers, forgets), so the hub can purge them after
 * the retention period like any delivered envelope. The receipts setting is not acknowledged: a
 * device that signs in later must still find it.
 */
function receiptIds(decoded: DecodedMessage[], me: string): string[] {
	return decoded
		.filter(
			(m) => m.direction === 'in' || (m.from === me && m.to === me && m.control?.type !== 'receipts-setting'),
		)
		.map((m) => m.id);
}
