import { fromB64, verifyEnvelope } from '../../src/lib/crypto';
import {
	LIMITS,
	ProtocolError,
	pickEnvelope,
	sameEnvelope,
	syncKeyOf,
	syncKeyTime,
	type Envelope,
	type PublicIdentity,
	type SendResult,
	type StoredEnvelope,
	type SyncRequest,
	type SyncResult,
} from '../../src/lib/protocol';
import type { HubConfig } from '../config';
import type { Store } from '../store';
import type { FileService } from './files';
import type { Notifier } from './notify';
import type { QuotaService } from './quota';
import type { RecentEnvelopes } from './recent-envelopes';

export const SYNC_DEFAULT_LIMIT = 200;
/** Receipts one sync reply carries at most; the rest come with the next cursor. */
const SYNC_RECEIPTS_MAX = 1000;
/** Public keys are immutable and users are never deleted yet, so they can be cached without expiry. */
const KEY_CACHE_MAX = 10_000;

export interface SendOutcome {
	result: SendResult;
	stored: StoredEnvelope;
	/** False for a resend of an envelope already stored (it is pushed again all the same). */
	fresh: boolean;
	/**
	 * The recipient blocked the sender: nothing was stored, the ack is the usual one (the sender is
	 * not told), and only the sender's own other devices hear of it.
	 */
	dropped: boolean;
	/** This send made the recipient the sender's contact (their devices are told). */
	contactAdded: boolean;
}

export interface ReceiptOutcome {
	count: number;
	/** Receipts recorded by this call (a repeated receipt is not announced twice). */
	recorded: { id: string; from: string; at: number }[];
}

/**
 * Who hears of a stored envelope: the sender's other devices always, the recipient only once it
 * is deliverable (live or released), never while it is locked or after it was cancelled.
 */
export function audienceOf(stored: StoredEnvelope): { recipient: boolean; sender: boolean } {
	return { recipient: stored.state === 'live' || stored.state === 'released', sender: true };
}

/** The relay: checks an envelope's sender, recipient, signature and unlock date, stores it, syncs it. */
export class MessageService {
	#keys = new Map<string, PublicIdentity>();
	constructor(
		private readonly store: Store,
		private readonly config: HubConfig,
		private readonly now: () => number,
		private readonly notify: Notifier,
		private readonly quota: QuotaService,
		private readonly files: FileService,
		private readonly recent: RecentEnvelopes,
	) {}

	/** Checks and stores one envelope for `sender` (the session's user). Idempotent by id. */
	async send(sender: string, envelope: Envelope): Promise<SendOutcome> {
		this.quota.takeSend(sender);
		if (envelope.from !== sender) {
			throw new ProtocolError('SENDER_MISMATCH', 'The envelope is not from the signed-in user.');
		}
		const now = this.now();
		if (envelope.unlockAt !== null) {
			const problem =
				envelope.unlockAt <= now
					? new ProtocolError('UNLOCK_IN_PAST', 'The unlock date has passed by the hub clock.')
					: envelope.unlockAt > now + this.config.timelockHorizonDays * 86_400_000
						? new ProtocolError(
								'UNLOCK_TOO_FAR',
								`The unlock date is more than ${this.config.timelockHorizonDays} days ahead.`,
							)
						: null;
			if (problem) {
				// A resend of what was stored before the date passed is still the same message.
				const previous = await this.#duplicateOf(envelope);
				if (previous) return previous;
				throw problem;
			}
		}
		const toSelf = envelope.to === sender;
		// How the recipient stands with the sender: the send path's one extra read, beside the keys'.
		const [senderKeys, recipientKeys, relation] = await Promise.all([
			this.#keysOf(sender),
			this.#keysOf(envelope.to),
			toSelf ? null : this.store.contacts.recentRelation(envelope.to, sender),
		]);
		if (!recipientKeys) throw new ProtocolError('UNKNOWN_RECIPIENT', 'No user has this name.');
		if (!senderKeys) throw new ProtocolError('UNAUTHENTICATED', 'This account no longer exists.');
		if (!verifyEnvelope(envelope, fromB64(senderKeys.signPk))) {
			throw new ProtocolError('BAD_SIGNATURE', "The signature does not match the sender's key.");
		}
		// The file it carries becomes readable by the recipient with it (once it is deliverable).
		await this.files.attach(sender, envelope);
		const stored: StoredEnvelope = {
			...pickEnvelope(envelope),
			state: envelope.unlockAt === null ? 'live' : 'locked',
			storedAt: now,
			releasedAt: null,
			syncKey: syncKeyOf(now, envelope.id),
		};
		// Writing to someone makes them your contact (you chose to), so their replies are never requests.
		const addContact = toSelf
			? Promise.resolve(false)
			: this.store.contacts.addIfAbsent(sender, envelope.to, now);
		if (relation?.state === 'blocked') {
			// Acknowledged as if stored, so the sender cannot tell; nothing is kept.
			return {
				result: resultOf(stored, false),
				stored,
				fresh: false,
				dropped: true,
				contactAdded: await addContact,
			};
		}
		// A stranger's message is a request: it must fit the request caps too (QuotaService).
		const request = !toSelf && relation === null;
		const [inserted, contactAdded] = await Promise.all([
			this.quota.charged(stored, () => this.store.envelopes.insert(stored), { request }),
			addContact,
		]);
		if (inserted) {
			if (stored.state === 'live') this.recent.remember(stored);
			return { result: resultOf(stored, false), stored, fresh: true, dropped: false, contactAdded };
		}
		const previous = await this.#duplicateOf(envelope);
		if (previous) return { ...previous, contactAdded };
		throw new ProtocolError('ID_CONFLICT', 'Another message already has this id.');
	}

	/**
	 * Tells devices of a send, once it is acknowledged. A resend is told again, to the same
	 * audience: the hub that stored it may have died before its push, and clients drop
	 * duplicates by id. `exceptSocketId` is the sending socket, which holds the envelope already.
	 */
	announce(outcome: SendOutcome, exceptSocketId: string): void {
		const { stored } = outcome;
		if (outcome.contactAdded) {
			this.notify.contactChanged(stored.from, {
				username: stored.to,
				state: 'accepted',
				since: stored.storedAt,
				cleared: false,
			});
		}
		if (outcome.dropped) {
			// The sender's other devices show it as sent, as for any message; the recipient hears nothing.
			this.notify.messageNew(stored, { recipient: false, sender: true }, exceptSocketId);
			return;
		}
		this.notify.messageNew(stored, audienceOf(stored), exceptSocketId);
		// Still locked and announced: the recipient may only learn that it is coming, and when.
		if (stored.state === 'locked' && stored.announce && stored.unlockAt !== null) {
			this.notify.sealed({
				id: stored.id,
				from: stored.from,
				to: stored.to,
				sentAt: stored.sentAt,
				unlockAt: stored.unlockAt,
			});
		}
	}

	/**
	 * Envelopes handed to a device on this hub, whichever hub stored them (a push that came through
	 * the adapter, a sync page): remembered, so that the receipt the device sends for each needs no
	 * read. With several hubs, most receipts reach a hub that did not store the envelope. Only
	 * deliverable ones: a locked envelope takes no receipt.
	 */
	handedOver(envelopes: readonly StoredEnvelope[]): void {
		for (const envelope of envelopes) {
			if (envelope.state === 'live' || envelope.state === 'released') this.recent.remember(envelope);
		}
	}

	/** One page of what `username` missed since `after`: never a locked envelope addressed to them. */
	async sync(username: string, request: SyncRequest): Promise<SyncResult> {
		const limit = Math.min(request.limit ?? SYNC_DEFAULT_LIMIT, LIMITS.syncPageMax);
		const [page, sealed, receipts] = await Promise.all([
			this.store.envelopes.page(username, request.after, limit),
			this.store.envelopes.sealedFor(username, LIMITS.syncPageMax),
			this.store.receipts.forSender(username, syncKeyTime(request.after), SYNC_RECEIPTS_MAX),
		]);
		this.handedOver(page.envelopes);
		// The page's last place in the order, an envelope's or a tombstone's.
		const last = [...page.envelopes, ...page.deleted].reduce<string | null>(
			(max, e) => (max === null || e.syncKey > max ? e.syncKey : max),
			null,
		);
		return {
			envelopes: page.envelopes,
			deleted: page.deleted,
			sealed,
			delivered: receipts.map((r) => ({ id: r.id, at: r.at })),
			cursor: last ?? request.after,
			more: page.more,
			serverNow: this.now(),
		};
	}

	/** Records that a device of `recipient` holds these envelopes. Ids not addressed to them are ignored. */
	async receipt(recipient: string, ids: string[]): Promise<ReceiptOutcome> {
		const unique = [...new Set(ids)];
		const mine: { id: string; from: string; expiresAfterMs: number | null }[] = [];
		const unknown: string[] = [];
		for (const id of unique) {
			const recent = this.recent.get(id);
			if (!recent) unknown.push(id);
			else if (recent.to === recipient)
				mine.push({ id, from: recent.from, expiresAfterMs: recent.expiresAfterMs });
		}
		if (unknown.length > 0) mine.push(...(await this.store.envelopes.deliverable(unknown, recipient)));
		const at = this.now();
		const first = await this.store.receipts.insertMany(
			mine.map((e) => ({ id: e.id, from: e.from, to: recipient, at })),
		);
		this.quota.delivered(
			recipient,
			mine.filter((_, i) => first[i]),
		);
		// A disappearing message leaves the hub its timer after its first delivery (it cannot see reads).
		await this.store.expiries.schedule(
			mine
				.filter((e, i) => first[i] && e.expiresAfterMs !== null)
				.map((e) => ({ id: e.id, to: recipient, at: at + (e.expiresAfterMs ?? 0) })),
		);
		return {
			count: mine.length,
			// The status goes to each envelope's stored sender, never to a name from the request.
			recorded: mine.filter((_, i) => first[i]).map((e) => ({ id: e.id, from: e.from, at })),
		};
	}

	async #duplicateOf(envelope: Envelope): Promise<SendOutcome | null> {
		const stored = await this.store.envelopes.get(envelope.id);
		if (!stored) return null;
		if (!sameEnvelope(stored, envelope))
			throw new ProtocolError('ID_CONFLICT', 'Another message already has this id.');
		return { result: resultOf(stored, true), stored, fresh: false, dropped: false, contactAdded: false };
	}

	async #keysOf(username: string): Promise<PublicIdentity | null> {
		const cached = this.#keys.get(username);
		if (cached) return cached;
		const user = await this.store.users.get(username);
		if (!user) return null;
		if (this.#keys.size >= KEY_CACHE_MAX) this.#keys.clear();
		this.#keys.set(username, user.identity);
		return user.identity;
	}
}

function resultOf(stored: StoredEnvelope, duplicate: boolean): SendResult {
	return {
		id: stored.id,
		storedAt: stored.storedAt,
		syncKey: stored.syncKey,
		duplicate,
		// A resend of a time-locked message reports it as locked whatever became of it since.
		state: stored.unlockAt === null ? 'live' : 'locked',
	};
}
