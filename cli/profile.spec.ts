import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
	generateIdentity,
	publicIdentity,
	randomBytes,
	ready,
	sealWithKey,
	serializeIdentity,
	toB64,
	utf8,
} from '../src/lib/crypto';
import {
	ProfileError,
	ProfileStore,
	openVault,
	sealVault,
	serverKey,
	type Profile,
	type Vault,
} from './profile';

const SERVER = 'http://127.0.0.1:3000';
let home: string;

beforeAll(async () => {
	await ready();
});

afterEach(() => {
	if (home) rmSync(home, { recursive: true, force: true });
});

function vault(): Vault {
	const identity = generateIdentity();
	return {
		identity,
		user: { username: 'alice', identity: publicIdentity(identity) },
		cookies: { hg_session: 'token-value' },
		pins: { bob: { username: 'bob', signPk: 'a'.repeat(43), boxPk: 'b'.repeat(43), pinnedAt: 1 } },
		verified: { bob: { username: 'bob', signPk: 'a'.repeat(43), boxPk: 'b'.repeat(43), verifiedAt: 2 } },
		cursor: '000001895994800000-x',
		seen: { id1: '000001895994800000-x' },
		receipts: { on: true, at: 5 },
		timers: { bob: 300_000 },
	};
}

function profile(sealed: Profile['vault']): Profile {
	return {
		v: 1,
		server: SERVER,
		username: 'alice',
		salt: 'A'.repeat(22),
		kdf: { alg: 'argon2id13', opslimit: 2, memlimit: 64 * 1024 * 1024 },
		keyBackup: { nonce: 'n'.repeat(32), ciphertext: 'c'.repeat(64) },
		vault: sealed,
	};
}

describe('serverKey', () => {
	it('makes a readable, file-name-safe key per origin', () => {
		expect(serverKey('http://127.0.0.1:3000')).toBe('http_127.0.0.1_3000');
		expect(serverKey('https://chat.example.org')).toBe('https_chat.example.org');
		expect(serverKey('http://[::1]:3000')).toBe('http____1__3000');
	});
});

describe('the sealed vault', () => {
	it('opens with the same local key and gives back everything', () => {
		const key = randomBytes(32);
		const original = vault();
		const opened = openVault(sealVault(original, key), key);
		expect(publicIdentity(opened.identity)).toEqual(publicIdentity(original.identity));
		expect(opened.identity.boxSk).toEqual(original.identity.boxSk);
		expect(opened.identity.signSk).toEqual(original.identity.signSk);
		expect({ ...opened, identity: null }).toEqual({ ...original, identity: null });
	});

	it('opens a vault sealed before verified marks existed, with none', () => {
		const key = randomBytes(32);
		const { identity, user, cookies, pins, cursor, seen } = vault();
		const text = JSON.stringify({
			v: 1,
			identity: serializeIdentity(identity),
			user,
			cookies,
			pins,
			cursor,
			seen,
		});
		const { nonce, ciphertext } = sealWithKey(utf8(text), key);
		const opened = openVault({ nonce: toB64(nonce), ciphertext: toB64(ciphertext) }, key);
		expect(opened.verified).toEqual({});
		expect(opened.pins).toEqual(pins);
	});

	it('keeps a pending download sealed, with its file key, and leaves it out once none is pending', () => {
		const key = randomBytes(32);
		const fileKey = toB64(randomBytes(32));
		const pending = {
			fileId: 'f'.repeat(22),
			key: fileKey,
			name: 'report.pdf',
			mime: 'application/pdf',
			size: 8 * 1024 * 1024,
			chunkSize: 256 * 1024,
			hash: toB64(randomBytes(32)),
			from: 'bob',
			kept: '/home/alice/Downloads/.hourglass-0123456789ab.kept',
			part: '/home/alice/Downloads/.hourglass-ba9876543210.part',
			at: 1_700_000_000_000,
		};
		const original = { ...vault(), downloads: { 'message-id': pending } };
		const sealed = sealVault(original, key);
		expect(JSON.stringify(sealed)).not.toContain(fileKey);
		expect(openVault(sealed, key).downloads).toEqual({ 'message-id': pending });

		const done = openVault(sealVault({ ...original, downloads: {} }, key), key);
		expect(done).not.toHaveProperty('downloads');
		expect(openVault(sealVault(vault(), key), key)).not.toHaveProperty('downloads');
	});

	it('refuses a pending download without its file key as damaged', () => {
		const key = randomBytes(32);
		const { identity, ...rest } = vault();
		const text = JSON.stringify({
			v: 1,
			...rest,
			identity: serializeIdentity(identity),
			downloads: { id: { fileId: 'f'.repeat(22), name: 'a.txt', from: 'bob', kept: '/tmp/x', at: 1 } },
		});
		const { nonce, ciphertext } = sealWithKey(utf8(text), key);
		expect(() => openVault({ nonce: toB64(nonce), ciphertext: toB64(ciphertext) }, key)).toThrow(/damaged/);
	});

	it('refuses another key as a wrong password', () => {
		const sealed = sealVault(vault(), randomBytes(32));
		expect(() => openVault(sealed, randomBytes(32))).toThrow(ProfileError);
		try {
			openVault(sealed, randomBytes(32));
		} catch (error) {
			expect((error as ProfileError).kind).toBe('wrong-password');
		}
	});

	it('keeps no secret in clear', () => {
		const key = randomBytes(32);
		const original = vault();
		const text = JSON.stringify(sealVault(original, key));
		expect(text).not.toContain('token-value');
		expect(text).not.toContain(toB64(original.identity.boxSk));
		expect(text).not.toContain(toB64(original.identity.signSk));
	});
});

describe('ProfileStore', () => {
	it('writes owner-only files and reads them back', () => {
		home = mkdtempSync(join(tmpdir(), 'hourglass-profile-'));
		const store = new ProfileStore(home);
		const key = randomBytes(32);
		const written = profile(sealVault(vault(), key));
		store.write(written);
		store.setCurrent(SERVER, 'alice');
		expect(statSync(store.path(SERVER, 'alice')).mode & 0o777).toBe(0o600);
		expect(statSync(join(home, serverKey(SERVER))).mode & 0o777).toBe(0o700);
		expect(store.read(SERVER, 'alice')).toEqual(written);
		expect(store.current(SERVER)).toBe('alice');
		expect(store.current('https://other.example')).toBeNull();
		expect(store.read(SERVER, 'bob')).toBeNull();
	});

	it('forgets an account and the pointer to it', () => {
		home = mkdtempSync(join(tmpdir(), 'hourglass-profile-'));
		const store = new ProfileStore(home);
		store.write(profile(sealVault(vault(), randomBytes(32))));
		store.setCurrent(SERVER, 'alice');
		store.remove(SERVER, 'alice');
		expect(store.read(SERVER, 'alice')).toBeNull();
		expect(store.current(SERVER)).toBeNull();
	});

	it('reports a damaged file instead of crashing on it', () => {
		home = mkdtempSync(join(tmpdir(), 'hourglass-profile-'));
		const store = new ProfileStore(home);
		store.write(profile(sealVault(vault(), randomBytes(32))));
		const path = store.path(SERVER, 'alice');
		writeFileSync(path, readFileSync(path, 'utf8').replace('"v": 1', '"v": 9'));
		expect(() => store.read(SERVER, 'alice')).toThrow(/damaged/);
		writeFileSync(path, '{ not json');
		expect(() => store.read(SERVER, 'alice')).toThrow(/not valid JSON/);
	});
});
