import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSecret, verifySecret } from './password-hash';

describe('authKey hashing', () => {
	it('verifies the right key and refuses another one', async () => {
		const key = randomBytes(32);
		const phc = await hashSecret(key);
		expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
		expect(await verifySecret(key, phc)).toBe(true);
		const other = Buffer.from(key);
		other[0] ^= 1;
		expect(await verifySecret(other, phc)).toBe(false);
	});

	it('salts every hash, so equal keys do not give equal hashes', async () => {
		const key = randomBytes(32);
		expect(await hashSecret(key)).not.toBe(await hashSecret(key));
	});

	it('refuses a malformed stored hash instead of throwing', async () => {
		expect(await verifySecret(randomBytes(32), 'plain-text')).toBe(false);
		expect(await verifySecret(randomBytes(32), '$argon2i$v=19$m=8,t=1,p=1$AAAA$AAAA')).toBe(false);
	});
});
