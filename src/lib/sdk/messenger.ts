import {
	LIMITS,
	parseSyncKey,
	syncKeyFloor,
	type ControlBody,
	type DeleteResult,
	type Envelope,
	type EnvelopeKind,
	type EnvelopeState,
	type FileBody,
	type MessageBody,
	type SendResult,
	type StoredEnvelope,
	type SyncResult,
	type Tombstone,
} from '../protocol';
import {
	fromB64,
	openEnvelope,
	sealEnvelope,
	signDeletion,
	verifyDeletion,
	type PublicKeys,
} from '../crypto';
import type { Account } from './account';
import { KeyChangedError } from './errors';
import type { HubApi } from './http';
import { call, type HubSocket } from './socket';

/** A peer's public keys as this device first saw them (trust on first use). */
export interface PinnedKeys {
	username: string;
	signPk: string;
	boxPk: string;
	pinnedAt: number;
}

export interface PinStore {
	get(username: string): Promise<PinnedKeys | undefined>;
	put(pin: PinnedKeys): Promise<void>;
}

export class MemoryPinStore implements PinStore {
	#pins = new Map<string, PinnedKeys>();
	async get(username: string) {
		return this.#pins.get(username);
	}
	async put(pin: PinnedKeys) {
		this.#pins.set(pin.username, pin);
	}
}

export type MessageProblem = 'bad-signature' | 'undecryptable' | 'bad-body' | 'key-changed';

/** An envelope after verification and decryption on this device. `text` is null whenever a check failed. */
export interface DecodedMessage {
	id: string;
	peer: string;
	direction: 'in' | 'out';
	from: string;
	to: string;
	sentAt: number;
	storedAt: number;
	syncKey: string;
	state: EnvelopeState;
	unlockAt: number | null;
	releasedAt: number | null;
	announce: boolean;
	kind: EnvelopeKind;
	/** A disappearing message's signed timer, or null. */
	expiresAfterMs: number | null;
	text: string | null;
	/** For a checked `control` envelope: what it asks (a forget only ever from this account to itself). */
	control: ControlBody | null;
	/** The file a file message carries (its key, name, size and hash), once every check passed. */
	file?: FileBody;
	problem: MessageProblem | null;
}

export interface SendOptions {
	id?: string;
	unlockAt?: number | null;
	announce?: boolean;
	/** Makes it a disappearing message with this timer. */
	expiresAfterMs?: number | null;
	/** The hub's id of the file a `file` body carries: the envelope names it in clear, signed. */
	fileId?: string;
}

/** What a sync page or a push says was deleted for everyone, checked against its sender's key. */
export interface DeletedMessage {
	id: string;
	peer: string;
	from: string;
	to: string;
	deletedAt: number;
	syncKey: string;
}

/** A sync cursor moved back by the overlap window, so a write that committed late is read again. */
export function overlapCursor(after: string | null, overlapMs: number = LIMITS.syncOverlapMs): string | null {
	const key = after === null ? null : parseSyncKey(after);
	return key ? syncKeyFloor(key.at - overlapMs) : null;
}

/** How long opening envelopes may hold the thread before it is handed back. */
const OPEN_SLICE_MS = 8;

function bad(decoded: DecodedMessage): DecodedMessage {
	return { ...decoded, problem: 'bad-body' };
}

function toPublicKeys(pin: { signPk: string; boxPk: string }): PublicKeys {
	return { signPk: fromB64(pin.signPk), boxPk: fromB64(pin.boxPk) };
}

/** Sends, receives and syncs end-to-end encrypted messages for one signed-in account. */
export class Messenger {
	readonly api: HubApi;
	readonly socket: HubSocket;
	readonly account: Account;
	readonly pins: PinStore;

	constructor(options: { api: HubApi; socket: HubSocket; account: Account; pins?: PinStore }) {
		this.api = options.api;
		this.socket = options.socket;
		this.account = options.account;
		this.pins = options.pins ?? new MemoryPinStore();
	}

	get username(): string {
		return this.account.username;
	}

	/**
	 * The peer's keys: the pinned ones when this device has them (unless `refresh`), else fetched
	 * and pinned. With `refresh`, keys that differ from the pin throw KeyChangedError.
	 */
	async peerKeys(username: string, options: { refresh?: boolean } = {}): Promise<PinnedKeys> {
		const peer = username.toLowerCase();
		if (peer === this.username) {
			return { username: peer, ...this.account.user.identity, pinnedAt: 0 };
		}
		const pinned = await this.pins.get(peer);
		if (pinned && !options.refresh) return pinned;
		const current = (await this.api.userKeys(peer)).identity;
		if (!pinned) {
			const pin = { username: peer, signPk: current.signPk, boxPk: current.boxPk, pinnedAt: Date.now() };
			await this.pins.put(pin);
			return pin;
		}
		if (pinned.signPk !== current.signPk || pinned.boxPk !== current.boxPk) {
			throw new KeyChangedError(peer, pinned, current);
		}
		return pinned;
	}

	/** Re-pins a peer's current keys after the user accepted the change. */
	async acceptKeyChange(error: KeyChangedError): Promise<PinnedKeys> {
		const pin = { username: error.username, ...error.current, pinnedAt: Date.now() };
		await this.pins.put(pin);
		return pin;
	}

	/** Builds a signed, encrypted envelope without sending it (for an outbox). */
	seal(peer: string, text: string, options: SendOptions = {}): Promise<Envelope> {
		return this.sealBody(peer, { type: 'text', text }, options);
	}

	/** Builds a signed, encrypted envelope for any body (a text, a file). */
	async sealBody(peer: string, body: MessageBody, options: SendOptions = {}): Promise<Envelope> {
		const keys = await this.peerKeys(peer);
		return sealEnvelope(
			{
				id: options.id,
				from: this.username,
				to: keys.username,
				unlockAt: options.unlockAt ?? null,
				announce: options.announce ?? false,
				expiresAfterMs: options.expiresAfterMs ?? null,
				fileId: options.fileId,
				body,
			},
			this.account.identity,
			fromB64(keys.boxPk),
		);
	}

	/** Builds a signed, encrypted control envelope (to yourself for your devices, or to a peer). */
	async sealControl(to: string, body: ControlBody, options: { id?: string } = {}): Promise<Envelope> {
		const keys = await this.peerKeys(to);
		return sealEnvelope(
			{ id: options.id, from: this.username, to: keys.username, kind: 'control', body },
			this.account.identity,
			fromB64(keys.boxPk),
		);
	}

	async sendControl(to: string, body: ControlBody): Promise<{ envelope: Envelope; result: SendResult }> {
		const envelope = await this.sealControl(to, body);
		return { envelope, result: await this.sendEnvelope(envelope) };
	}

	/** Sets the conversation's disappearing timer (null: off) for both sides; returns the control envelope sent. */
	async setTimer(peer: string, expiresAfterMs: number | null): Promise<Envelope> {
		const envelope = await this.sealControl(peer, { type: 'timer', expiresAfterMs });
		await this.sendEnvelope(envelope);
		return envelope;
	}

	/** Delete for me: every device of this account forgets the message; the peer keeps theirs. */
	async forget(id: string): Promise<Envelope> {
		const envelope = await this.sealControl(this.username, { type: 'forget', id });
		await this.sendEnvelope(envelope);
		return envelope;
	}

	/** Delete for everyone, of a message this account sent: signed here, checked by the hub and by the peer's devices. */
	deleteForEveryone(id: string, timeoutMs?: number): Promise<DeleteResult> {
		const signature = signDeletion({ id, from: this.username }, this.account.identity.signSk);
		return call(this.socket, 'message:delete', { id, signature }, timeoutMs);
	}

	/**
	 * A tombstone whose signature is its sender's (this account's, or the pinned peer's), or null:
	 * a deletion the hub made up is ignored.
	 */
	async checkTombstone(
		tombstone: Tombstone,
		keysOf: (peer: string) => Promise<PinnedKeys> = (peer) => this.peerKeys(peer),
	): Promise<DeletedMessage | null> {
		const outgoing = tombstone.from === this.username;
		if (!outgoing && tombstone.to !== this.username) return null;
		const peer = outgoing ? tombstone.to : tombstone.from;
		const signPk = outgoing ? this.account.identity.signPk : fromB64((await keysOf(peer)).signPk);
		if (!verifyDeletion(tombstone, tombstone.signature, signPk)) return null;
		return {
			id: tombstone.id,
			peer,
			from: tombstone.from,
			to: tombstone.to,
			deletedAt: tombstone.deletedAt,
			syncKey: tombstone.syncKey,
		};
	}

	sendEnvelope(envelope: Envelope, timeoutMs?: number): Promise<SendResult> {
		return call(this.socket, 'message:send', envelope, timeoutMs);
	}

	async send(
		peer: string,
		text: string,
		options: SendOptions = {},
	): Promise<{ envelope: Envelope; result: SendResult }> {
		const envelope = await this.seal(peer, text, options);
		return { envelope, result: await this.sendEnvelope(envelope) };
	}

	/** Verifies and decrypts; a failed check yields `text: null` and the reason, never the text. */
	async open(
		stored: StoredEnvelope,
		keysOf: (peer: string) => Promise<PinnedKeys> = (peer) => this.peerKeys(peer),
	): Promise<DecodedMessage> {
		const direction = stored.from === this.username ? 'out' : 'in';
		const peer = direction === 'out' ? stored.to : stored.from;
		const decoded: DecodedMessage = {
			id: stored.id,
			peer,
			direction,
			from: stored.from,
			to: stored.to,
			sentAt: stored.sentAt,
			storedAt: stored.storedAt,
			syncKey: stored.syncKey,
			state: stored.state,
			unlockAt: stored.unlockAt,
			releasedAt: stored.releasedAt,
			announce: stored.announce,
			kind: stored.kind,
			expiresAfterMs: stored.expiresAfterMs ?? null,
			text: null,
			control: null,
			problem: null,
		};
		const keys = await keysOf(peer);
		const result = openEnvelope(stored, this.account.identity, this.username, toPublicKeys(keys));
		if (result.ok) {
			const { body } = result;
			// The kind is signed: a text or file body only in a text envelope, a control body only in a control one.
			if (body.type === 'text')
				return stored.kind === 'text' ? { ...decoded, text: body.text } : bad(decoded);
			if (body.type === 'file') {
				if (stored.kind !== 'text') return bad(decoded);
				// A file body must name the file its signed envelope names: else it is not this envelope's file.
				return body.fileId === stored.fileId ? { ...decoded, file: body } : bad(decoded);
			}
			if (stored.kind !== 'control') return bad(decoded);
			// Only this account may ask its own devices to forget a message.
			if (body.type === 'forget' && (stored.from !== this.username || stored.to !== this.username)) {
				return bad(decoded);
			}
			return { ...decoded, control: body };
		}
		if (result.reason === 'bad-signature' && direction === 'in') {
			// Signed with other keys than the pinned ones: say so rather than "forged" when the hub publishes new keys.
			try {
				await this.peerKeys(peer, { refresh: true });
			} catch (error) {
				if (error instanceof KeyChangedError) return { ...decoded, problem: 'key-changed' };
			}
		}
		return { ...decoded, problem: result.reason };
	}

	/** One page of envelopes after `after` (exclusive), decrypted, and its deletions checked. */
	async sync(
		after: string | null,
		limit?: number,
		timeoutMs?: number,
	): Promise<SyncResult & { messages: DecodedMessage[]; deletions: DeletedMessage[] }> {
		const page = await call(this.socket, 'sync:pull', { after, limit }, timeoutMs);
		const deletions: DeletedMessage[] = [];
		for (const tombstone of page.deleted) {
			const checked = await this.checkTombstone(tombstone);
			if (checked) deletions.push(checked);
		}
		return { ...page, messages: await this.openAll(page.envelopes), deletions };
	}

	/**
	 * Opens envelopes in order, handing the thread back every few milliseconds: a page of 500
	 * checked signatures in one go would hold a browser's main thread for too long.
	 */
	async openAll(envelopes: StoredEnvelope[]): Promise<DecodedMessage[]> {
		const messages: DecodedMessage[] = [];
		// Each peer's pinned keys are read once per batch, not once per envelope.
		const keys = new Map<string, Promise<PinnedKeys>>();
		const keysOf = (peer: string) => {
			let pin = keys.get(peer);
			if (!pin) {
				pin = this.peerKeys(peer);
				keys.set(peer, pin);
			}
			return pin;
		};
		let sliceStart = Date.now();
		for (const envelope of envelopes) {
			messages.push(await this.open(envelope, keysOf));
			if (Date.now() - sliceStart >= OPEN_SLICE_MS) {
				await new Promise((resolve) => setTimeout(resolve, 0));
				sliceStart = Date.now();
			}
		}
		return messages;
	}

	/**
	 * Everything since `cursor`: starts a little before it (the overlap window, so nothing committed
	 * late is skipped; callers drop duplicates by id), then follows pages to the end.
	 */
	async syncAll(
		cursor: string | null,
		onPage?: (
			page: SyncResult & { messages: DecodedMessage[]; deletions: DeletedMessage[] },
		) => Promise<void> | void,
		options: { timeoutMs?: number } = {},
	): Promise<{
		messages: DecodedMessage[];
		deletions: DeletedMessage[];
		cursor: string | null;
		serverNow: number;
	}> {
		let after = overlapCursor(cursor);
		let newest = cursor;
		const messages: DecodedMessage[] = [];
		const deletions: DeletedMessage[] = [];
		let serverNow: number;
		// Full pages: a hub's cost per page grows with what the user has stored more than with the page's size.
		let pending = this.sync(after, LIMITS.syncPageMax, options.timeoutMs);
		for (;;) {
			const page = await pending;
			serverNow = page.serverNow;
			const last = !page.more || page.cursor === after;
			// The next page is asked for while this one is stored, so the hub and the device work side by side.
			const next = last ? null : this.sync(page.cursor, LIMITS.syncPageMax, options.timeoutMs);
			next?.catch(() => undefined); // awaited below; this only keeps a failure during onPage from going unhandled
			messages.push(...page.messages);
			deletions.push(...page.deletions);
			if (onPage) await onPage(page);
			if (page.cursor && (newest === null || page.cursor > newest)) newest = page.cursor;
			if (!next) break;
			after = page.cursor;
			pending = next;
		}
		return { messages, deletions, cursor: newest, serverNow };
	}

	/** Tells the hub this device has these incoming messages (the sender sees "delivered"). */
	async receipt(ids: string[]): Promise<void> {
		for (let i = 0; i < ids.length; i += LIMITS.receiptIdsMax) {
			await call(this.socket, 'message:received', { ids: ids.slice(i, i + LIMITS.receiptIdsMax) });
		}
	}
}
