import { KDF_DEFAULT, type KdfParams } from '../protocol';
import { sodiumSync } from './sodium';

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

/** Argon2id(password, salt): slow by design; run it in a worker in the browser. */
export function deriveMaster(password: string, salt: Uint8Array, kdf: KdfParams): Uint8Array {
	const s = sodiumSync();
	if (salt.length !== s.crypto_pwhash_SALTBYTES) {
		throw new Error(`deriveMaster: salt must be ${s.crypto_pwhash_SALTBYTES} bytes`);
	}
	return s.crypto_pwhash(32, password, salt, kdf.opslimit, kdf.memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
}

/** Splits the master key into independent subkeys, so the hub's authKey reveals nothing of wrapKey. */
export function splitMaster(master: Uint8Array): DerivedKeys {
	const s = sodiumSync();
	if (master.length !== s.crypto_kdf_KEYBYTES) {
		throw new Error('splitMaster: master key must be 32 bytes');
	}
	return {
		authKey: s.crypto_kdf_derive_from_key(32, AUTH_SUBKEY, CONTEXT, master),
		wrapKey: s.crypto_kdf_derive_from_key(32, WRAP_SUBKEY, CONTEXT, master),
		localKey: s.crypto_kdf_derive_from_key(32, LOCAL_SUBKEY, CONTEXT, master),
	};
}

export function deriveKeys(password: string, salt: Uint8Array, kdf: KdfParams): DerivedKeys {
	return splitMaster(deriveMaster(password, salt, kdf));
}
