import { fromB64, sodiumSync, toB64, utf8 } from './sodium';

const DELETE_DOMAIN = 'hourglass/delete-for-everyone/v1';

/**
 * What a message's sender signs to delete it for everyone: a domain tag, the message's id and its
 * sender, length-prefixed. The id names one envelope, whose signed header names the recipient.
 */
export function deletionStatement(message: { id: string; from: string }): Uint8Array {
	const parts = [utf8(DELETE_DOMAIN), utf8(message.id), utf8(message.from)];
	const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
	const view = new DataView(out.buffer);
	let offset = 0;
	for (const part of parts) {
		view.setUint32(offset, part.length);
		out.set(part, offset + 4);
		offset += 4 + part.length;
	}
	return out;
}

/** The sender's Ed25519 signature over the deletion statement, base64url. */
export function signDeletion(message: { id: string; from: string }, signSk: Uint8Array): string {
	return toB64(sodiumSync().crypto_sign_detached(deletionStatement(message), signSk));
}

/** True when `signature` is the sender's over the deletion statement of exactly this message. */
export function verifyDeletion(
	message: { id: string; from: string },
	signature: string,
	senderSignPk: Uint8Array,
): boolean {
	try {
		return sodiumSync().crypto_sign_verify_detached(
			fromB64(signature),
			deletionStatement(message),
			senderSignPk,
		);
	} catch {
		return false;
	}
}
