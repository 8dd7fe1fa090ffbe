import { beforeAll, describe, expect, it } from 'vitest';
import { Envelope, KDF_DEFAULT } from '../protocol';
import {
	decodePublicIdentity,
	deriveKeys,
	fromB64,
	generateIdentity,
	openEnvelope,
	newHistoryKey,
	openIdentityBackup,
	openKeyBackup,
	publicIdentity,
	ready,
	readyArgon2,
	safetyNumber,
	sealEnvelope,
	signDeletion,
	sodiumSync,
	verifyDeletion,
	sealIdentityBackup,
	toB64,
	verifyEnvelope,
	type Identity,
} from './index';

let alice: Identity;
let bob: Identity;

beforeAll(async () => {
	await ready();
	alice = generateIdentity();
	bob = generateIdentity();
});

function flipBit(b64: string, byte = 0): string {
	const bytes = fromB64(b64);
	bytes[byte] ^= 1;
	return toB64(bytes);
}

function hello(): Envelope {
	return sealEnvelope(
		{ from: 'alice', to: 'bob', body: { type: 'text', text: 'hello bob' } },
		alice,
		bob.boxPk,
	);
}

describe('envelope', () => {
	it('round-trips for the recipient and for the sender', () => {
		const env = hello();
		expect(Envelope.safeParse(env).success).toBe(true);
		const forBob = openEnvelope(env, bob, 'bob', { signPk: alice.signPk, boxPk: alice.boxPk });
		expect(forBob).toEqual({ ok: true, body: { type: 'text', text: 'hello bob' } });
		const forAlice = openEnvelope(env, alice, 'alice', { signPk: bob.signPk, boxPk: bob.boxPk });
		expect(forAlice).toEqual({ ok: true, body: { type: 'text', text: 'hello bob' } });
	});

	it('rejects a flipped bit in the ciphertext, the nonce or the signature', () => {
		const peer = { signPk: alice.signPk, boxPk: alice.boxPk };
		const env = hello();
		for (const tampered of [
			{ ...env, ciphertext: flipBit(env.ciphertext, 5) },
			{ ...env, nonce: flipBit(env.nonce) },
			{ ...env, signature: flipBit(env.signature, 10) },
			{ ...env, to: 'carol' },
			{ ...env, unlockAt: Date.now() + 1000 },
		]) {
			expect(openEnvelope(tampered, bob, 'bob', peer)).toEqual({ ok: false, reason: 'bad-signature' });
			expect(verifyEnvelope(tampered, alice.signPk)).toBe(false);
		}
	});

	it('cannot be opened with a wrong key, nor verified against another signer', () => {
		const env = hello();
		const mallory = generateIdentity();
		expect(openEnvelope(env, mallory, 'bob', { signPk: alice.signPk, boxPk: alice.boxPk })).toEqual({
			ok: false,
			reason: 'undecryptable',
		});
		expect(verifyEnvelope(env, mallory.signPk)).toBe(false);
	});
});

describe('disappearing timer and control envelopes', () => {
	it('signs the timer: changing, adding or removing it breaks the signature; none signs as before', () => {
		const timed = sealEnvelope(
			{ from: 'alice', to: 'bob', expiresAfterMs: 300_000, body: { type: 'text', text: 'soon gone' } },
			alice,
			bob.boxPk,
		);
		expect(verifyEnvelope(timed, alice.signPk)).toBe(true);
		for (const expiresAfterMs of [3_600_000, null, undefined]) {
			expect(verifyEnvelope({ ...timed, expiresAfterMs }, alice.signPk)).toBe(false);
		}
		const plain = hello();
		// An envelope signed before the field existed has none at all, and still verifies.
		const { expiresAfterMs: _, ...old } = plain;
		expect(verifyEnvelope(old, alice.signPk)).toBe(true);
		expect(verifyEnvelope({ ...plain, expiresAfterMs: 300_000 }, alice.signPk)).toBe(false);
	});

	it('signs the kind: a control body cannot pass as a text envelope', () => {
		const control = sealEnvelope(
			{ from: 'alice', to: 'bob', kind: 'control', body: { type: 'timer', expiresAfterMs: null } },
			alice,
			bob.boxPk,
		);
		expect(verifyEnvelope(control, alice.signPk)).toBe(true);
		expect(verifyEnvelope({ ...control, kind: 'text' }, alice.signPk)).toBe(false);
	});
});

describe('deletion statement', () => {
	it('verifies for the sender and exactly that message, nothing else', () => {
		const message = { id: '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b', from: 'alice' };
		const signature = signDeletion(message, alice.signSk);
		expect(verifyDeletion(message, signature, alice.signPk)).toBe(true);
		expect(
			verifyDeletion({ ...message, id: '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2c' }, signature, alice.signPk),
		).toBe(false);
		expect(verifyDeletion({ ...message, from: 'mallory' }, signature, alice.signPk)).toBe(false);
		expect(verifyDeletion(message, signature, bob.signPk)).toBe(false);
		expect(verifyDeletion(message, flipBit(signature, 3), alice.signPk)).toBe(false);
		expect(verifyDeletion(message, 'not base64!', alice.signPk)).toBe(false);
	});
});

describe('key derivation and backup', () => {
	const salt = new Uint8Array(16).fill(7);

	it('is deterministic and splits into independent keys', async () => {
		const a = await deriveKeys('correct horse battery staple', salt, KDF_DEFAULT);
		const b = await deriveKeys('correct horse battery staple', salt, KDF_DEFAULT);
		expect(toB64(a.authKey)).toBe(toB64(b.authKey));
		expect(toB64(a.wrapKey)).toBe(toB64(b.wrapKey));
		expect(toB64(a.authKey)).not.toBe(toB64(a.wrapKey));
		const other = await deriveKeys('correct horse battery stapler', salt, KDF_DEFAULT);
		expect(toB64(other.authKey)).not.toBe(toB64(a.authKey));
	});

	it('derives the keys every existing account was made with (known answer)', async () => {
		// Argon2id13 (2 passes, 64 MiB) then crypto_kdf subkeys 1-3 of context "hg-login", computed
		// with libsodium's full build directly: a change of build or code must not change them.
		const keys = await deriveKeys('correct horse battery staple', salt, KDF_DEFAULT);
		expect(sodiumSync().to_hex(keys.authKey)).toBe(
			'282151130e7f02823065fc0e637ec9b1ffc7fa4b8562ab162830b1bb895d20f3',
		);
		expect(sodiumSync().to_hex(keys.wrapKey)).toBe(
			'57522ff0ec24e15e751f5318f287bd99be3998cc12426ea9ecb81c61876a942f',
		);
		expect(sodiumSync().to_hex(keys.localKey)).toBe(
			'951d8e99e97b311f0129de9da28e9f946d24114a4f878fad0f0e3ad67174db93',
		);
	});

	it('loads the standard libsodium for everything but Argon2id', async () => {
		// The page's libsodium has no crypto_pwhash (the standard build, a quarter smaller); the
		// derivation above loaded the full build apart.
		expect('crypto_pwhash' in sodiumSync()).toBe(false);
		expect(typeof (await readyArgon2()).crypto_pwhash).toBe('function');
	});

	it('restores the identity from its backup and refuses a wrong key', async () => {
		const keys = await deriveKeys('correct horse battery staple', salt, KDF_DEFAULT);
		const backup = sealIdentityBackup(alice, keys.wrapKey);
		const restored = openIdentityBackup(backup, keys.wrapKey);
		expect(toB64(restored.boxSk)).toBe(toB64(alice.boxSk));
		expect(toB64(restored.signSk)).toBe(toB64(alice.signSk));
		const wrong = await deriveKeys('not the password!', salt, KDF_DEFAULT);
		expect(() => openIdentityBackup(backup, wrong.wrapKey)).toThrow(/openWithKey/);
	});

	it('carries the history key in the backup, and none in a backup made before', async () => {
		const keys = await deriveKeys('correct horse battery staple', salt, KDF_DEFAULT);
		const historyKey = newHistoryKey();
		const opened = openKeyBackup(sealIdentityBackup(alice, keys.wrapKey, historyKey), keys.wrapKey);
		expect(toB64(opened.historyKey!)).toBe(toB64(historyKey));
		expect(toB64(opened.identity.boxSk)).toBe(toB64(alice.boxSk));
		expect(openKeyBackup(sealIdentityBackup(alice, keys.wrapKey), keys.wrapKey).historyKey).toBeNull();
		expect(() => sealIdentityBackup(alice, keys.wrapKey, new Uint8Array(16))).toThrow(/sealIdentityBackup/);
	});
});

describe('safety number', () => {
	it('is the same on both sides, 60 digits, and changes with a key', () => {
		const a = { username: 'alice', keys: decodePublicIdentity(publicIdentity(alice)) };
		const b = { username: 'bob', keys: decodePublicIdentity(publicIdentity(bob)) };
		const n1 = safetyNumber(a, b);
		expect(n1).toBe(safetyNumber(b, a));
		expect(n1.replaceAll(' ', '')).toMatch(/^\d{60}$/);
		const mallory = generateIdentity();
		expect(
			safetyNumber(a, { username: 'bob', keys: { signPk: mallory.signPk, boxPk: mallory.boxPk } }),
		).not.toBe(n1);
	});
});
