import sodium from 'libsodium-wrappers-sumo';

export type Sodium = typeof sodium;

/** The only way into libsodium: resolves once its WebAssembly is ready. */
export async function ready(): Promise<Sodium> {
	await sodium.ready;
	return sodium;
}

/** libsodium, for code that has already awaited `ready()`; throws otherwise. */
export function sodiumSync(): Sodium {
	if (typeof sodium.crypto_box_easy !== 'function') {
		throw new Error('sodiumSync: call ready() first');
	}
	return sodium;
}

export function toB64(bytes: Uint8Array): string {
	return sodiumSync().to_base64(bytes, sodium.base64_variants.URLSAFE_NO_PADDING);
}

export function fromB64(text: string): Uint8Array {
	return sodiumSync().from_base64(text, sodium.base64_variants.URLSAFE_NO_PADDING);
}

export function utf8(text: string): Uint8Array {
	return new TextEncoder().encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
	return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

export function randomBytes(length: number): Uint8Array {
	return sodiumSync().randombytes_buf(length);
}

/** Constant-time equality of two byte strings. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
	return a.length === b.length && sodiumSync().memcmp(a, b);
}
