import { KDF_DEFAULT, type KdfParams } from '../protocol';
import { readyArgon2, sodiumSync, type SodiumWithArgon2 } from './sodium';

const SALT_BYTES = 16;
const AUTH_SUBKEY = 1;
const WRAP_SUBKEY = 2;
const LOCAL_SUBKEY = 3;
const CONTEXT = 'hg-login';

export interface DerivedKeys {
	/** Sent to the hub, which stores only a slow hash of it. */
	authKey: Uint8Array;
	/** Never leaves the device: seals the identity backup. */
	wrapKey: Uint8Array;
	/** Never leaves the device: seals local data at rest. */
	localKey: Uint8Array;
}

export function newSalt(): Uint8Array {
	return sodiumSync().randombytes_buf(SALT_BYTES);
}

export function defaultKdf(): KdfParams {
	return { ...KDF_DEFAULT };
}

/**
 * Argon2id(password, salt), split into independent subkeys so that the hub's authKey reveals
 * nothing of wrapKey or localKey. Slow by design: the browser runs it in a worker. Both steps use
 * libsodium's full build (Argon2id is only there), so a worker loads one libsodium, not two.
 */
export async function deriveKeys(password: string, salt: Uint8Array, kdf: KdfParams): Promise<DerivedKeys> {
	const s = await readyArgon2();
	return splitMaster(s, deriveMaster(s, password, salt, kdf));
}

function deriveMaster(s: SodiumWithArgon2, password: string, salt: Uint8Array, kdf: KdfParams): Uint8Array {
	if (salt.length !== s.crypto_pwhash_SALTBYTES) {
		throw new Error(`deriveKeys: salt must be ${s.crypto_pwhash_SALTBYTES} bytes`);
	}
	return s.crypto_pwhash(32, password, salt, kdf.opslimit, kdf.memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
}

function splitMaster(s: SodiumWithArgon2, master: Uint8Array): DerivedKeys {
	return {
		authKey: s.crypto_kdf_derive_from_key(32, AUTH_SUBKEY, CONTEXT, master),
		wrapKey: s.crypto_kdf_derive_from_key(32, WRAP_SUBKEY, CONTEXT, master),
		localKey: s.crypto_kdf_derive_from_key(32, LOCAL_SUBKEY, CONTEXT, master),
	};
}
