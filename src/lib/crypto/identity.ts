import type { KeyBackup, PublicIdentity } from '../protocol';
import { fromB64, fromUtf8, sodiumSync, toB64, utf8 } from './sodium';

/** A user's long-term keys. The secret halves never leave the device unsealed. */
export interface Identity {
	signPk: Uint8Array;
	signSk: Uint8Array;
	boxPk: Uint8Array;
	boxSk: Uint8Array;
}

export function generateIdentity(): Identity {
	const s = sodiumSync();
	const sign = s.crypto_sign_keypair();
	const box = s.crypto_box_keypair();
	return { signPk: sign.publicKey, signSk: sign.privateKey, boxPk: box.publicKey, boxSk: box.privateKey };
}

export function publicIdentity(identity: Identity): PublicIdentity {
	return { signPk: toB64(identity.signPk), boxPk: toB64(identity.boxPk) };
}

export interface PublicKeys {
	signPk: Uint8Array;
	boxPk: Uint8Array;
}

export function decodePublicIdentity(identity: PublicIdentity): PublicKeys {
	return { signPk: fromB64(identity.signPk), boxPk: fromB64(identity.boxPk) };
}

/** Identity as text (for a sealed backup or a sealed local file). */
export function serializeIdentity(identity: Identity): string {
	return JSON.stringify({
		v: 1,
		signPk: toB64(identity.signPk),
		signSk: toB64(identity.signSk),
		boxPk: toB64(identity.boxPk),
		boxSk: toB64(identity.boxSk),
	});
}

export function deserializeIdentity(text: string): Identity {
	const s = sodiumSync();
	const raw = JSON.parse(text) as Record<string, unknown>;
	if (raw.v !== 1) throw new Error('deserializeIdentity: unknown version');
	const field = (name: string, length: number): Uint8Array => {
		const value = raw[name];
		if (typeof value !== 'string') throw new Error(`deserializeIdentity: ${name} missing`);
		const bytes = fromB64(value);
		if (bytes.length !== length) throw new Error(`deserializeIdentity: ${name} has the wrong length`);
		return bytes;
	};
	const identity = {
		signPk: field('signPk', s.crypto_sign_PUBLICKEYBYTES),
		signSk: field('signSk', s.crypto_sign_SECRETKEYBYTES),
		boxPk: field('boxPk', s.crypto_box_PUBLICKEYBYTES),
		boxSk: field('boxSk', s.crypto_box_SECRETKEYBYTES),
	};
	if (toB64(s.crypto_scalarmult_base(identity.boxSk)) !== toB64(identity.boxPk)) {
		throw new Error('deserializeIdentity: box keys do not match');
	}
	return identity;
}

/** Seals bytes under a 32-byte key with crypto_secretbox and a fresh nonce. */
export function sealWithKey(
	plaintext: Uint8Array,
	key: Uint8Array,
): { nonce: Uint8Array; ciphertext: Uint8Array } {
	const s = sodiumSync();
	const nonce = s.randombytes_buf(s.crypto_secretbox_NONCEBYTES);
	return { nonce, ciphertext: s.crypto_secretbox_easy(plaintext, nonce, key) };
}

/** Opens what sealWithKey sealed; throws when the key is wrong or the bytes were changed. */
export function openWithKey(ciphertext: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
	try {
		return sodiumSync().crypto_secretbox_open_easy(ciphertext, nonce, key);
	} catch {
		throw new Error('openWithKey: wrong key or damaged data');
	}
}

/**
 * The key backup: the identity's secret halves and, since password change, the account's history
 * key (which seals local history at rest), sealed under wrapKey. A backup made before then has no
 * history key; its account's history is sealed under the localKey derived from the password.
 */
export function sealIdentityBackup(
	identity: Identity,
	wrapKey: Uint8Array,
	historyKey?: Uint8Array,
): KeyBackup {
	const raw = JSON.parse(serializeIdentity(identity)) as Record<string, unknown>;
	if (historyKey) {
		if (historyKey.length !== 32) throw new Error('sealIdentityBackup: history key must be 32 bytes');
		raw.historyKey = toB64(historyKey);
	}
	const { nonce, ciphertext } = sealWithKey(utf8(JSON.stringify(raw)), wrapKey);
	return { nonce: toB64(nonce), ciphertext: toB64(ciphertext) };
}

export function openIdentityBackup(backup: KeyBackup, wrapKey: Uint8Array): Identity {
	return openKeyBackup(backup, wrapKey).identity;
}

/** Opens a key backup: the identity, and the history key when the backup carries one. */
export function openKeyBackup(
	backup: KeyBackup,
	wrapKey: Uint8Array,
): { identity: Identity; historyKey: Uint8Array | null } {
	const text = fromUtf8(openWithKey(fromB64(backup.ciphertext), fromB64(backup.nonce), wrapKey));
	const identity = deserializeIdentity(text);
	const stored = (JSON.parse(text) as { historyKey?: unknown }).historyKey;
	if (stored === undefined) return { identity, historyKey: null };
	const historyKey = typeof stored === 'string' ? fromB64(stored) : null;
	if (!historyKey || historyKey.length !== 32) throw new Error('openKeyBackup: bad history key');
	return { identity, historyKey };
}

/** A fresh random history key for a new account. */
export function newHistoryKey(): Uint8Array {
	return sodiumSync().randombytes_buf(32);
}
