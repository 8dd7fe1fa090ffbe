import { z } from './zod';
import { EpochMs, MessageId, Username, b64Bytes, b64Range } from './common';
import { FileId } from './files';
import { LIMITS } from './limits';

/** `control` carries a control body (body.ts): never shown as a message, never counted or notified. */
export const EnvelopeKind = z.enum(['text', 'control']);
export type EnvelopeKind = z.infer<typeof EnvelopeKind>;

/**
 * What the sender's browser builds and the hub stores and relays: the header in clear
 * (the hub needs it to route and to hold time-locks), the body sealed with crypto_box,
 * header and ciphertext signed with the sender's Ed25519 key.
 */
export const Envelope = z.strictObject({
	v: z.literal(1),
	id: MessageId,
	from: Username,
	to: Username,
	/** Sender's clock, informative only; ordering uses the hub's times. */
	sentAt: EpochMs,
	/** Unlock date by the hub's clock, or null for an ordinary message. */
	unlockAt: EpochMs.nullable(),
	/** For a time-locked message: may the recipient see that something is coming? */
	announce: z.boolean(),
	kind: EnvelopeKind,
	/**
	 * A disappearing message: removed this long after it was first read (after it was sent, for the
	 * sender's copy). Signed, so every device and the hub agree. Absent on envelopes from before it.
	 */
	expiresAfterMs: z.number().int().min(1).max(LIMITS.disappearingMaxMs).nullable().optional(),
	nonce: b64Bytes(24),
	ciphertext: b64Range(16, LIMITS.ciphertextMaxBytes),
	/**
	 * The file this envelope carries (its key is in the ciphertext), so the hub can let the recipient
	 * download it once the envelope is deliverable. Signed; absent from every envelope without a file.
	 */
	fileId: FileId.optional(),
	signature: b64Bytes(64),
});
export type Envelope = z.infer<typeof Envelope>;

/** Every field of an envelope, as the schema lists them: all are the sender's, all are signed or the signature. */
export const ENVELOPE_FIELDS = Object.keys(Envelope.shape) as (keyof Envelope)[];

/** The envelope inside `e` (a StoredEnvelope, say), without the fields the hub adds. */
export function pickEnvelope(e: Envelope): Envelope {
	// An optional field left out stays out (an envelope without a file has no `fileId` key at all).
	return Object.fromEntries(
		ENVELOPE_FIELDS.filter((field) => e[field] !== undefined).map((field) => [field, e[field]]),
	) as Envelope;
}

/** True when every field is equal (an absent timer equals none): a resend of the same envelope, not another under its id. */
export function sameEnvelope(a: Envelope, b: Envelope): boolean {
	return ENVELOPE_FIELDS.every((field) => (a[field] ?? null) === (b[field] ?? null));
}

export const EnvelopeState = z.enum(['live', 'locked', 'released', 'cancelled']);
export type EnvelopeState = z.infer<typeof EnvelopeState>;

/** An envelope as the hub hands it out: with the hub's times and its place in the sync order. */
export const StoredEnvelope = Envelope.extend({
	state: EnvelopeState,
	storedAt: EpochMs,
	/** When the hub released a time-locked envelope (null otherwise). */
	releasedAt: EpochMs.nullable(),
	/** Position in the recipient's sync order (hub time, zero-padded, then id). */
	syncKey: z.string().min(1).max(64),
});
export type StoredEnvelope = z.infer<typeof StoredEnvelope>;

/** What an announced time-lock shows the recipient before the unlock: no ciphertext. */
export const SealedNotice = z.strictObject({
	id: MessageId,
	from: Username,
	to: Username,
	sentAt: EpochMs,
	unlockAt: EpochMs,
});
export type SealedNotice = z.infer<typeof SealedNotice>;

/**
 * What is left of a message its sender deleted for everyone: the sender's signed request, in both
 * parties' sync orders where the envelope was, so that every device removes the text.
 */
export const Tombstone = z.strictObject({
	id: MessageId,
	from: Username,
	to: Username,
	deletedAt: EpochMs,
	/** The sender's Ed25519 signature over the deletion statement (src/lib/crypto/takeback.ts). */
	signature: b64Bytes(64),
	syncKey: z.string().min(1).max(64),
});
export type Tombstone = z.infer<typeof Tombstone>;

/** The fields covered by the signature, in this order. */
export type EnvelopeHeader = Omit<Envelope, 'signature'>;
