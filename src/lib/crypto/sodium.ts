export type Sodium = (typeof import('libsodium-wrappers'))['default'];
/** libsodium's full ("sumo") build: the standard one plus Argon2id (`crypto_pwhash`). */
export type SodiumWithArgon2 = (typeof import('libsodium-wrappers-sumo'))['default'];

let sodium: Sodium | null = null;

/**
 * A libsodium build, imported on the first call and resolved once its WebAssembly is ready. A
 * chunk that failed to arrive (offline, a deploy in between) is asked for again next time.
 */
function loadOnce<T extends { ready: Promise<void> }>(load: () => Promise<{ default: T }>): () => Promise<T> {
	let loading: Promise<T> | null = null;
	return () => {
		loading ??= load()
			.then(async ({ default: library }) => {
				await library.ready;
				return library;
			})
			.catch((error: unknown) => {
				loading = null;
				throw error;
			});
		return loading;
	};
}

const loadStandard = loadOnce(() => import('libsodium-wrappers'));

/**
 * The way into libsodium. libsodium (its WebAssembly inlined) is the largest part of the PWA's
 * JavaScript, so it loads when an account is first opened, not with the page that shows the
 * sign-in form; and it is the standard build, a quarter smaller than the full one, whose only
 * extra used here is Argon2id (see `readyArgon2`).
 */
export async function ready(): Promise<Sodium> {
	sodium = await loadStandard();
	return sodium;
}

/**
 * libsodium's full build, for Argon2id alone: where a password's keys are derived (the KDF worker
 * in the browser, which ends after each derivation; in-process in Node). A page never loads it.
 */
export const readyArgon2: () => Promise<SodiumWithArgon2> = loadOnce(() => import('libsodium-wrappers-sumo'));

/** libsodium, for code that has already awaited `ready()`; throws otherwise. */
export function sodiumSync(): Sodium {
	if (!sodium) throw new Error('sodiumSync: call ready() first');
	return sodium;
}

export function toB64(bytes: Uint8Array): string {
	const lib = sodiumSync();
	return lib.to_base64(bytes, lib.base64_variants.URLSAFE_NO_PADDING);
}

export function fromB64(text: string): Uint8Array {
	const lib = sodiumSync();
	return lib.from_base64(text, lib.base64_variants.URLSAFE_NO_PADDING);
}

/** The parts one after another, each after its length as a 32-bit big-endian integer: no two lists encode alike. */
export function lengthPrefixed(parts: readonly Uint8Array[]): Uint8Array {
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
