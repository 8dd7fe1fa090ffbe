import { z } from './zod';
import type { Ack } from './errors';
import { EpochMs, MessageId, b64Bytes } from './common';
import { Envelope, SealedNotice, StoredEnvelope, Tombstone } from './envelope';
import type { ContactChanged } from './contacts';
import { LIMITS } from './limits';

export const SendResult = z.strictObject({
	id: MessageId,
	storedAt: EpochMs,
	syncKey: z.string(),
	/** True when this id was already stored: resending is idempotent. */
	duplicate: z.boolean(),
	state: z.enum(['live', 'locked']),
});
export type SendResult = z.infer<typeof SendResult>;

export const SyncRequest = z.strictObject({
	/** The last syncKey this device holds, or null for everything still on the hub. */
	after: z.string().max(64).nullable(),
	limit: z.number().int().min(1).max(LIMITS.syncPageMax).optional(),
});
export type SyncRequest = z.infer<typeof SyncRequest>;

export const SyncResult = z.strictObject({
	envelopes: z.array(StoredEnvelope),
	/** Messages deleted for everyone, in the same sync order as the envelopes (the cursor covers both). */
	deleted: z.array(Tombstone),
	/** Announced time-locks addressed to this user that are still sealed. */
	sealed: z.array(SealedNotice),
	/** Delivery receipts for messages this user sent. */
	delivered: z.array(z.strictObject({ id: MessageId, at: EpochMs })),
	cursor: z.string().nullable(),
	more: z.boolean(),
	serverNow: EpochMs,
});
export type SyncResult = z.infer<typeof SyncResult>;

export const ReceiptRequest = z.strictObject({
	ids: z.array(MessageId).min(1).max(LIMITS.receiptIdsMax),
});
export type ReceiptRequest = z.infer<typeof ReceiptRequest>;

export const MessageStatus = z.strictObject({
	id: MessageId,
	status: z.literal('delivered'),
	at: EpochMs,
});
export type MessageStatus = z.infer<typeof MessageStatus>;

export const TimeSyncResult = z.strictObject({ serverNow: EpochMs });
export type TimeSyncResult = z.infer<typeof TimeSyncResult>;

export const CancelRequest = z.strictObject({ id: MessageId });
export type CancelRequest = z.infer<typeof CancelRequest>;

export const LockedItem = StoredEnvelope;
export const TimelockListResult = z.strictObject({ items: z.array(StoredEnvelope) });
export type TimelockListResult = z.infer<typeof TimelockListResult>;

export const CancelResult = z.strictObject({ id: MessageId, outcome: z.literal('cancelled') });
export type CancelResult = z.infer<typeof CancelResult>;

export const Cancelled = z.strictObject({ id: MessageId, from: z.string(), to: z.string() });
export type Cancelled = z.infer<typeof Cancelled>;

/**
 * Delete for everyone: the sender's signature over the deletion statement of `id`
 * (src/lib/crypto/takeback.ts), which the hub checks and the recipient's devices check again.
 */
export const DeleteRequest = z.strictObject({ id: MessageId, signature: b64Bytes(64) });
export type DeleteRequest = z.infer<typeof DeleteRequest>;

/** `deleted`: the hub's copy is gone and a tombstone stands; `cancelled`: it was still time-locked and never will be delivered. */
export const DeleteResult = z.strictObject({ id: MessageId, outcome: z.enum(['deleted', 'cancelled']) });
export type DeleteResult = z.infer<typeof DeleteResult>;

export const SessionEnded = z.strictObject({
	reason: z.enum(['logout', 'expired', 'revoked', 'password-changed', 'account-deleted']),
});
export type SessionEnded = z.infer<typeof SessionEnded>;

/**
 * The hub asks connected devices to pull what they may have missed: sent when its link to the
 * other hubs (the Redis adapter) comes back, since pushes made while it was down may be lost.
 * Each device waits a random moment up to `withinMs` first, so a hub's devices do not all ask at once.
 */
export const SyncHint = z.strictObject({
	reason: z.literal('relay-restored'),
	withinMs: z.number().int().min(0).max(60_000),
});
export type SyncHint = z.infer<typeof SyncHint>;

/** Socket.IO event names, written once. */
export const EVENTS = {
	send: 'message:send',
	sync: 'sync:pull',
	receipt: 'message:received',
	timeSync: 'time:sync',
	timelockList: 'timelock:list',
	timelockCancel: 'timelock:cancel',
	messageDelete: 'message:delete',
	messageDeleted: 'message:deleted',
	messageNew: 'message:new',
	messageStatus: 'message:status',
	sealedNew: 'timelock:sealed',
	cancelled: 'timelock:cancelled',
	sessionEnded: 'session:ended',
	syncHint: 'sync:hint',
	contactsChanged: 'contacts:changed',
} as const;

type Reply<T> = (reply: Ack<T>) => void;

export interface ClientToServerEvents {
	'message:send': (envelope: Envelope, ack: Reply<SendResult>) => void;
	'sync:pull': (request: SyncRequest, ack: Reply<SyncResult>) => void;
	'message:received': (request: ReceiptRequest, ack: Reply<{ count: number }>) => void;
	'time:sync': (request: Record<string, never>, ack: Reply<TimeSyncResult>) => void;
	'timelock:list': (request: Record<string, never>, ack: Reply<TimelockListResult>) => void;
	'timelock:cancel': (request: CancelRequest, ack: Reply<CancelResult>) => void;
	'message:delete': (request: DeleteRequest, ack: Reply<DeleteResult>) => void;
}

export interface ServerToClientEvents {
	'message:new': (envelope: StoredEnvelope) => void;
	'message:status': (status: MessageStatus) => void;
	'timelock:sealed': (notice: SealedNotice) => void;
	'timelock:cancelled': (event: Cancelled) => void;
	'message:deleted': (tombstone: Tombstone) => void;
	'session:ended': (event: SessionEnded) => void;
	'sync:hint': (hint: SyncHint) => void;
	'contacts:changed': (change: ContactChanged) => void;
}

/** Every client event's payload schema; the hub parses with these before anything else. */
export const CLIENT_EVENT_SCHEMAS = {
	'message:send': Envelope,
	'sync:pull': SyncRequest,
	'message:received': ReceiptRequest,
	'time:sync': z.strictObject({}),
	'timelock:list': z.strictObject({}),
	'timelock:cancel': CancelRequest,
	'message:delete': DeleteRequest,
} as const satisfies Record<keyof ClientToServerEvents, z.ZodType>;
