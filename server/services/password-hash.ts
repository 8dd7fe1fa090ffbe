import { argon2, randomBytes, timingSafeEqual, type Argon2Parameters } from 'node:crypto';

/**
 * Argon2id (node:crypto) over the client's authKey. The authKey is already the output of a slow
 * KDF, so OWASP's minimum cost suffices here; a stolen users table still costs a brute force
 * of both KDFs. Parameters travel in the PHC string so they can be raised later.
 */
export const AUTH_HASH_PARAMS = { memory: 19_456, passes: 2, parallelism: 1, tagLength: 32 } as const;

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(params: Argon2Parameters): Promise<Buffer> {
	return new Promise((done, fail) => {
		argon2('argon2id', params, (error, key) => (error ? fail(error) : done(key)));
	});
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64').replace(/=+$/, '');

/** A PHC string `$argon2id$v=19$m=…,t=…,p=…$salt$hash` (unpadded standard base64, as argon2 tools write it). */
export async function hashSecret(secret: Uint8Array): Promise<string> {
	const { memory, passes, parallelism, tagLength } = AUTH_HASH_PARAMS;
	const salt = randomBytes(16);
	const hash = await derive({ message: secret, nonce: salt, memory, passes, parallelism, tagLength });
	return `$argon2id$v=19$m=${memory},t=${passes},p=${parallelism}$${b64(salt)}$${b64(hash)}`;
}

/** Re-derives with the stored parameters and compares in constant time. False for a malformed hash. */
export async function verifySecret(secret: Uint8Array, phc: string): Promise<boolean> {
	const match = PHC.exec(phc);
	if (!match) return false;
	const [, memory, passes, parallelism, salt, expected] = match;
	const want = Buffer.from(expected, 'base64');
	const got = await derive({
		message: secret,
		nonce: Buffer.from(salt, 'base64'),
		memory: Number(memory),
		passes: Number(passes),
		parallelism: Number(parallelism),
		tagLength: want.length,
	});
	return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * Argon2id with at most `concurrency` hashes at once (each takes a thread of libuv's pool and ~19
 * MiB), sign-ins before registrations: a burst of sign-ups queues behind itself instead of in
 * front of people signing in, and the pool stays free for the hub's other work (files, DNS).
 */
export class PasswordHasher {
	#running = 0;
	readonly #waiting: { first: (() => void)[]; later: (() => void)[] } = { first: [], later: [] };

	constructor(private readonly concurrency: number) {}

	/** A new hash (registration): waits behind every sign-in. */
	hash(secret: Uint8Array): Promise<string> {
		return this.#run('later', () => hashSecret(secret));
	}

	/** A check (sign-in): goes before any waiting registration. */
	verify(secret: Uint8Array, phc: string): Promise<boolean> {
		return this.#run('first', () => verifySecret(secret, phc));
	}

	async #run<T>(lane: 'first' | 'later', work: () => Promise<T>): Promise<T> {
		if (this.#running >= this.concurrency) {
			await new Promise<void>((turn) => this.#waiting[lane].push(turn));
		} else {
			this.#running++;
		}
		try {
			return await work();
		} finally {
			const next = this.#waiting.first.shift() ?? this.#waiting.later.shift();
			// The slot passes straight to the next in line, so a newcomer cannot take it in between.
			if (next) next();
			else this.#running--;
		}
	}
}
