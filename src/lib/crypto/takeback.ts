import { fromB64, lengthPrefixed, sodiumSync, toB64, utf8 } from './sodium';

const DELETE_DOMAIN = 'hourglass/delete-for-everyone/v1';

/**
 * What a message's sender signs to delete it for everyone: a domain tag, the message's id and its
 * sender, length-prefixed. The id names one envelope, whose signed header names the recipient.
 */
export function deletionStatement(message: { id: string; from: string }): Uint8Array {
	return lengthPrefixed([utf8(DELETE_DOMAIN), utf8(message.id), utf8(message.from)]);
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
