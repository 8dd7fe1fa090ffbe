import { Dexie, type EntityTable, type Table } from 'dexie';
import { fromB64, fromUtf8, openWithKey, sealWithKey, toB64, utf8 } from '../crypto';
import type { ContactState, Envelope } from '../protocol';
import {
	orderOf,
	type MessageProblem,
	type PinStore,
	type PinnedKeys,
	type SealedAccount,
	type Verification,
} from '../sdk';
import { isPreviewable } from './timeline';

/** Text sealed at rest with the account's localKey (crypto_secretbox), base64url. */
export interface SealedText {
	nonce: string;
	ciphertext: string;
}

export type MessageStatus =
	/** Outgoing, waiting in the outbox. */
	| 'sending'
	/** Outgoing, stored by the hub (live or still locked). */
	| 'sent'
	/** Outgoing, a device of the recipient has it. */
	| 'delivered'
	/** Outgoing, the recipient read it (only with read receipts on at both ends). */
	| 'read'
	/** Outgoing, refused by the hub: `error` says why. */
	| 'failed'
	/** A time-lock that its sender cancelled before its unlock (ours, or an announced one of the peer's). */
	| 'cancelled'
	/** Incoming, checked (text, or `problem` when a check failed). */
	| 'received'
	/** Incoming announced time-lock: the sender and the unlock date, nothing to read yet. */
	| 'sealed'
	/** Deleted for everyone by its sender: the text is gone, "message deleted" shows in its place. */
	| 'deleted'
	/** A line in the conversation, not a message: `notice` says what (a disappearing timer set). */
	| 'notice';

/** What a `notice` row shows. */
export interface TimerNotice {
	kind: 'timer';
	by: string;
	expiresAfterMs: number | null;
}

export interface MessageRow {
	id: string;
	peer: string;
	direction: 'in' | 'out';
	status: MessageStatus;
	/** Place in the conversation: the unlock time of a time-lock, else the hub's storage time. */
	order: number;
	sentAt: number;
	storedAt: number | null;
	unlockAt: number | null;
	releasedAt: number | null;
	announce: boolean;
	text: SealedText | null;
	problem: MessageProblem | null;
	error: string | null;
	/** A disappearing message's signed timer (absent on rows from before them). */
	expiresAfterMs?: number | null;
	/** When this device removes it, by the hub's clock: sent + timer for our own, first read + timer for others'. */
	expiresAt?: number | null;
	/** The peer, while an incoming disappearing message waits for its first read (indexed; absent otherwise). */
	waitsForRead?: string;
	notice?: TimerNotice | null;
	/** A file message's FileBody (its key included), sealed like the text; absent for others. */
	file?: SealedText | null;
}

export interface ConversationRow {
	peer: string;
	lastAt: number;
	unread: number;
	/** The latest message the conversation shows (the list's preview, see `lastOfPeer`), kept by every write. */
	lastId?: string | null;
	/** Incoming messages up to this place (`orderOf`) are read, here or on another device of the account. */
	readUpTo?: number;
	/** The disappearing timer messages sent now carry, and the hub time of the setting that decided it. */
	timerMs?: number | null;
	timerSetAt?: number;
}

/** A message this device removed (deleted for me, or disappeared): a sync that brings it again is ignored. */
export interface GoneRow {
	id: string;
	at: number;
}

/** Read receipts on or off, and the hub time of the setting that said so (the newest wins). */
export interface ReceiptsSetting {
	on: boolean;
	at: number;
}

export type MetaRow =
	| { key: 'cursor'; value: string | null }
	| { key: 'receipts'; value: ReceiptsSetting }
	/** The hub time at which this device's first sync with the hub completed. */
	| { key: 'firstSync'; value: number };

export interface OutboxRow {
	seq?: number;
	id: string;
	peer: string;
	envelope: Envelope;
}

/** How this account stands with someone, as the hub last said (GET /api/contacts, contacts:changed). */
export interface ContactRow {
	username: string;
	state: ContactState;
	since: number;
}

/** A name this user gave a contact: on this device only, sealed at rest like the messages. */
export interface NicknameRow {
	username: string;
	nickname: SealedText;
}

/**
 * A file being sent (src/lib/client/files.svelte.ts): the picked File itself (IndexedDB keeps a
 * Blob on disk, not in memory) so that a reload can resume it, and the SDK's resume state sealed
 * with the localKey (it holds the file's key). Deleted once the file's message is queued.
 */
export interface UploadRow {
	id: string;
	peer: string;
	name: string;
	mime: string;
	size: number;
	blob: Blob;
	thumbnail: Uint8Array | null;
	unlockAt: number | null;
	announce: boolean;
	createdAt: number;
	/** The SDK's UploadState, sealed; null until the hub created the upload. */
	state: SealedText | null;
	error: string | null;
}

/**
 * A file being downloaded or downloaded (src/lib/client/files-download.svelte.ts): its ciphertext
 * chunks as the hub sent them (FileChunkRow), to resume an interrupted download and, once
 * `complete`, to open it offline. They are encrypted under the file's own key, which only the
 * message row (sealed with the localKey) holds.
 */
export interface FileCopyRow {
	fileId: string;
	/** The message that carries the file: the copy goes when it does. */
	messageId: string;
	bytes: number;
	/** Last opened or saved, for eviction of the oldest copies. */
	at: number;
	complete: boolean;
}

export interface FileChunkRow {
	fileId: string;
	n: number;
	/** Chunk `n` of the file's secretstream, exactly as the hub served it. */
	ciphertext: Uint8Array;
}

export interface AccountRow {
	key: 'self';
	sealed: SealedAccount;
}

/** One IndexedDB database per account, so two people sharing a browser never mix histories. */
export class AccountDb extends Dexie {
	conversations!: EntityTable<ConversationRow, 'peer'>;
	messages!: EntityTable<MessageRow, 'id'>;
	pins!: EntityTable<PinnedKeys, 'username'>;
	meta!: EntityTable<MetaRow, 'key'>;
	outbox!: EntityTable<OutboxRow, 'seq'>;
	account!: EntityTable<AccountRow, 'key'>;
	contacts!: EntityTable<ContactRow, 'username'>;
	nicknames!: EntityTable<NicknameRow, 'username'>;
	/** Peers whose safety number the user compared, with the keys it was compared for. */
	verified!: EntityTable<Verification, 'username'>;
	gone!: EntityTable<GoneRow, 'id'>;
	uploads!: EntityTable<UploadRow, 'id'>;
	fileCopies!: EntityTable<FileCopyRow, 'fileId'>;
	fileChunks!: Table<FileChunkRow, [string, number]>;

	constructor(username: string) {
		super(accountDbName(username));
		this.version(1).stores({
			conversations: 'peer, lastAt',
			messages: 'id, [peer+order], status',
			pins: 'username',
			meta: 'key',
			outbox: '++seq, &id',
			account: 'key',
		});
		this.version(2)
			.stores({})
			.upgrade(async (tx) => {
				const messages = tx.table<MessageRow, string>('messages');
				const conversations = tx.table<ConversationRow, string>('conversations');
				const rows = await conversations.toArray();
				for (const row of rows) row.lastId = (await lastOfPeer(messages, row.peer))?.id ?? null;
				await conversations.bulkPut(rows);
			});
		// Contacts (the hub's list, mirrored for offline use) and local nicknames.
		this.version(3).stores({ contacts: 'username', nicknames: 'username' });
		this.version(4).stores({ verified: 'username' });
		// 5 (takeback): removals scheduled by time, incoming disappearing messages waiting for a read, removed ids.
		this.version(5).stores({
			messages: 'id, [peer+order], status, expiresAt, waitsForRead',
			gone: 'id, at',
		});
		// 6 (filesui): files being sent (resumable after a reload), and offline copies of downloaded files.
		this.version(6).stores({ uploads: 'id, peer', fileCopies: 'fileId, at', fileChunks: '[fileId+n]' });
		// 7 (convo): a cancelled time-lock sits where it was sent, not at an unlock that never comes; the
		// preview is the latest row shown, never a sealed placeholder.
		this.version(7)
			.stores({})
			.upgrade(async (tx) => {
				const messages = tx.table<MessageRow, string>('messages');
				await messages
					.where('status')
					.equals('cancelled')
					.modify((row) => {
						row.order = orderOf({ ...row, state: 'cancelled' });
					});
				const conversations = tx.table<ConversationRow, string>('conversations');
				const rows = await conversations.toArray();
				for (const row of rows) row.lastId = (await lastOfPeer(messages, row.peer))?.id ?? null;
				await conversations.bulkPut(rows);
			});
		// 8 (filesfin): downloads keep the file's ciphertext chunks (resumable, checked by the file's
		// hash at each opening) instead of plaintext pieces sealed with the localKey; the old copies,
		// a cache, are dropped and downloaded again when next opened.
		this.version(8)
			.stores({})
			.upgrade(async (tx) => {
				await tx.table('fileChunks').clear();
				await tx.table('fileCopies').clear();
			});
	}

	async sealedAccount(): Promise<SealedAccount | undefined> {
		return (await this.account.get('self'))?.sealed;
	}

	async saveSealedAccount(sealed: SealedAccount): Promise<void> {
		await this.account.put({ key: 'self', sealed });
	}

	async cursor(): Promise<string | null> {
		const row = await this.meta.get('cursor');
		return row?.key === 'cursor' ? row.value : null;
	}

	async saveCursor(value: string | null): Promise<void> {
		await this.meta.put({ key: 'cursor', value });
	}

	/** When this device first completed a sync (null before): what that sync brought is history, not news. */
	async firstSyncAt(): Promise<number | null> {
		const row = await this.meta.get('firstSync');
		return row?.key === 'firstSync' ? row.value : null;
	}

	async saveFirstSync(at: number): Promise<void> {
		await this.meta.put({ key: 'firstSync', value: at });
	}

	/** Read receipts are off until this account turned them on (on any of its devices). */
	async receiptsSetting(): Promise<ReceiptsSetting> {
		const row = await this.meta.get('receipts');
		return row?.key === 'receipts' ? row.value : { on: false, at: 0 };
	}

	async saveReceiptsSetting(value: ReceiptsSetting): Promise<void> {
		await this.meta.put({ key: 'receipts', value });
	}
}

/**
 * The message with the highest place in `peer`'s conversation that can be its preview at `hubNow`
 * (no sealed placeholder, no time-lock of ours still closed then). Without `hubNow`,
 * our own closed time-locks count: the list then looks again when the clock passes them.
 */
export function lastOfPeer(
	messages: Table<MessageRow, string> | EntityTable<MessageRow, 'id'>,
	peer: string,
	hubNow = Infinity,
	/** Told of each row passed over on the way. */
	passed: (row: MessageRow) => void = () => {},
): Promise<MessageRow | undefined> {
	return messages
		.where('[peer+order]')
		.between([peer, Dexie.minKey], [peer, Dexie.maxKey])
		.reverse()
		.filter((row) => {
			const shown = isPreviewable(row, hubNow);
			if (!shown) passed(row);
			return shown;
		})
		.first();
}

export function accountDbName(username: string): string {
	return `hourglass-${username}`;
}

/** True when this browser holds a database for the account (without creating one). */
export async function hasAccountDb(username: string): Promise<boolean> {
	return Dexie.exists(accountDbName(username));
}

export function sealText(text: string, localKey: Uint8Array): SealedText {
	const { nonce, ciphertext } = sealWithKey(utf8(text), localKey);
	return { nonce: toB64(nonce), ciphertext: toB64(ciphertext) };
}

export function openText(sealed: SealedText, localKey: Uint8Array): string {
	return fromUtf8(openWithKey(fromB64(sealed.ciphertext), fromB64(sealed.nonce), localKey));
}

/** The SDK's PinStore on IndexedDB: peers' keys as first seen, kept across sessions. */
export class DexiePinStore implements PinStore {
	constructor(private readonly db: AccountDb) {}

	async get(username: string): Promise<PinnedKeys | undefined> {
		return this.db.pins.get(username);
	}

	async put(pin: PinnedKeys): Promise<void> {
		await this.db.pins.put(pin);
	}
}
