import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PasswordHasher, hashSecret, verifySecret } from './password-hash';

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

describe('PasswordHasher', () => {
	it('runs at most `concurrency` hashes at once, and sign-ins before waiting registrations', async () => {
		const hasher = new PasswordHasher(1);
		const key = randomBytes(32);
		const phc = await hashSecret(key);
		const order: string[] = [];
		const done = (name: string) => () => order.push(name);
		const running = hasher.hash(randomBytes(32)).then(done('register 1'));
		const queued = hasher.hash(randomBytes(32)).then(done('register 2'));
		const login = hasher.verify(key, phc).then((ok) => order.push(`login ${ok}`));
		await Promise.all([running, queued, login]);
		expect(order).toEqual(['register 1', 'login true', 'register 2']);
	});
});
