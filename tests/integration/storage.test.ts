import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKeys, fromB64, toB64 } from '../../src/lib/crypto';
import { dumpDatabase, openTestDb, type TestDb } from '../helpers/db';
import { startTestHub, type TestHub } from '../helpers/hub';
import { newUser, uniqueName, type TestClient } from '../helpers/users';

let hub: TestHub;
let db: TestDb;
const clients: TestClient[] = [];

beforeAll(async () => {
	hub = await startTestHub({ name: 'storage' });
	db = await openTestDb(hub.mongoUri);
});

afterAll(async () => {
	for (const client of clients) client.close();
	await db?.close();
	await hub?.stop();
});

/** Every text form a key could be written in. */
function forms(bytes: Uint8Array): string[] {
	return [toB64(bytes), Buffer.from(bytes).toString('base64'), Buffer.from(bytes).toString('hex')];
}

describe('what the hub stores', () => {
	it('holds no plaintext, password, authKey or private key anywhere in the database', async () => {
		const password = 'plaintext-password-never-stored 42';
		const alice = await newUser(hub.url, uniqueName('alice'), password);
		const bob = await newUser(hub.url, uniqueName('bob'), password);
		clients.push(alice, bob);
		const secrets = ['the launch code is 0000', 'meet me at the old mill at noon'];
		await alice.messenger.send(bob.username, secrets[0]);
		await bob.messenger.send(alice.username, secrets[1]);
		await alice.messenger.send(bob.username, 'sealed for later', { unlockAt: Date.now() + 3_600_000 });

		const dump = await dumpDatabase(db);
		// The dump really holds the data: users, sessions and the envelopes.
		expect(dump).toContain(alice.username);
		expect(dump).toContain(alice.account.sealed.keyBackup.ciphertext);
		expect(dump.match(/"ciphertext"/g)?.length ?? 0).toBeGreaterThanOrEqual(3 + 2);

		const forbidden: string[] = [password, ...secrets, 'sealed for later'];
		for (const client of [alice, bob]) {
			const pre = await client.api.prelogin(client.username);
			const keys = await deriveKeys(password, fromB64(pre.salt), pre.kdf);
			forbidden.push(...forms(keys.authKey), ...forms(keys.wrapKey), ...forms(keys.localKey));
			forbidden.push(...forms(client.account.identity.signSk), ...forms(client.account.identity.boxSk));
			// The session cookie's token: only its hash is stored.
			forbidden.push(/hg_session=([^;]+)/.exec(client.api.cookieHeader() ?? '')?.[1] ?? 'missing cookie');
		}
		for (const secret of forbidden) expect(dump).not.toContain(secret);

		const user = await db.collection('users').findOne({ _id: alice.username as never });
		expect(user?.authHash).toMatch(/^\$argon2id\$v=19\$/);
	});
});
