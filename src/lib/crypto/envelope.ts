import { v7 as uuidv7 } from 'uuid';
import { MessageBody, type Envelope, type EnvelopeHeader, type EnvelopeKind } from '../protocol';
import type { Identity, PublicKeys } from './identity';
import { fromB64, fromUtf8, lengthPrefixed, sodiumSync, toB64, utf8 } from './sodium';

const DOMAIN = 'hourglass/envelope/v1';

/** A fresh message id: a UUIDv7, so ids sort by creation time and resending stays idempotent. */
export function newMessageId(): string {
	return uuidv7();
}

/**
 * The exact bytes the sender signs: a domain tag, then every header field and the
 * nonce and ciphertext, each length-prefixed so no two headers encode alike.
 */
export function envelopeSigningBytes(header: EnvelopeHeader): Uint8Array {
	const parts: Uint8Array[] = [
		utf8(DOMAIN),
		utf8(String(header.v)),
		utf8(header.id),
		utf8(header.from),
		utf8(header.to),
		utf8(String(header.sentAt)),
		utf8(header.unlockAt === null ? '' : String(header.unlockAt)),
		utf8(header.announce ? '1' : '0'),
		utf8(header.kind),
		fromB64(header.nonce),
		fromB64(header.ciphertext),
	];
	// Appended only when set, so envelopes signed before these fields existed keep their bytes.
	if (header.fileId !== undefined) parts.push(utf8(`file:${header.fileId}`));
	if (header.expiresAfterMs != null) parts.push(utf8(`expires:${header.expiresAfterMs}`));
	return lengthPrefixed(parts);
}

export interface SealOptions {
	id?: string;
	from: string;
	to: string;
	sentAt?: number;
	unlockAt?: number | null;
	announce?: boolean;
	kind?: EnvelopeKind;
	/** A disappearing message's timer; null or absent for an ordinary one. */
	expiresAfterMs?: number | null;
	/** The hub's id of the file the body carries (a `file` body). */
	fileId?: string;
	body: MessageBody;
}

/** Encrypts a body for `to` (crypto_box, sender and recipient can both open it) and signs it. */
export function sealEnvelope(options: SealOptions, sender: Identity, recipientBoxPk: Uint8Array): Envelope {
	const s = sodiumSync();
	const body = MessageBody.parse(options.body);
	const nonce = s.randombytes_buf(s.crypto_box_NONCEBYTES);
	const ciphertext = s.crypto_box_easy(utf8(JSON.stringify(body)), nonce, recipientBoxPk, sender.boxSk);
	const header: EnvelopeHeader = {
		v: 1,
		id: options.id ?? newMessageId(),
		from: options.from,
		to: options.to,
		sentAt: options.sentAt ?? Date.now(),
		unlockAt: options.unlockAt ?? null,
		announce: options.announce ?? false,
		kind: options.kind ?? 'text',
		expiresAfterMs: options.expiresAfterMs ?? null,
		nonce: toB64(nonce),
		ciphertext: toB64(ciphertext),
		...(options.fileId === undefined ? {} : { fileId: options.fileId }),
	};
	const signature = s.crypto_sign_detached(envelopeSigningBytes(header), sender.signSk);
	return { ...header, signature: toB64(signature) };
}

/** True when the envelope's signature is the sender's over exactly these header bytes. */
export function verifyEnvelope(envelope: Envelope, senderSignPk: Uint8Array): boolean {
	const { signature, ...header } = envelope;
	try {
		return sodiumSync().crypto_sign_verify_detached(
			fromB64(signature),
			envelopeSigningBytes(header),
			senderSignPk,
		);
	} catch {
		return false;
	}
}

export type OpenResult =
	{ ok: true; body: MessageBody } | { ok: false; reason: 'bad-signature' | 'undecryptable' | 'bad-body' };

/**
 * Verifies and decrypts an envelope that `me` sent or received. `peer` holds the other
 * party's pinned keys. Never returns text from an envelope that failed either check.
 */
export function openEnvelope(
	envelope: Envelope,
	me: Identity,
	myUsername: string,
	peer: PublicKeys,
): OpenResult {
	const s = sodiumSync();
	const outgoing = envelope.from === myUsername;
	const senderSignPk = outgoing ? me.signPk : peer.signPk;
	if (!verifyEnvelope(envelope, senderSignPk)) return { ok: false, reason: 'bad-signature' };
	let plaintext: Uint8Array;
	try {
		// crypto_box is symmetric in the shared secret: the sender opens with the recipient's public key.
		plaintext = s.crypto_box_open_easy(
			fromB64(envelope.ciphertext),
			fromB64(envelope.nonce),
			peer.boxPk,
			me.boxSk,
		);
	} catch {
		return { ok: false, reason: 'undecryptable' };
	}
	try {
		const parsed = MessageBody.safeParse(JSON.parse(fromUtf8(plaintext)));
		return parsed.success ? { ok: true, body: parsed.data } : { ok: false, reason: 'bad-body' };
	} catch {
		return { ok: false, reason: 'bad-body' };
	}
}
