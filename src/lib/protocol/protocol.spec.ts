import { describe, expect, it } from 'vitest';
import {
	CLIENT_EVENT_SCHEMAS,
	Envelope,
	KeyBackup,
	LIMITS,
	LoginRequest,
	MessageBody,
	PreloginRequest,
	RegisterRequest,
	SyncRequest,
	Username,
	UsernameInput,
	b64Length,
	pickEnvelope,
	sameEnvelope,
	type StoredEnvelope,
} from './index';

const b64 = (bytes: number) => 'A'.repeat(b64Length(bytes));

function validEnvelope(): Envelope {
	return {
		v: 1,
		id: '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b',
		from: 'alice',
		to: 'bob',
		sentAt: 1_700_000_000_000,
		unlockAt: null,
		announce: false,
		kind: 'text',
		nonce: b64(24),
		ciphertext: b64(40),
		signature: b64(64),
	};
}

describe('usernames', () => {
	it('accepts 3 to 32 letters, digits, _ . - and folds case on input', () => {
		expect(UsernameInput.parse('Alice_B.c-9')).toBe('alice_b.c-9');
		for (const bad of ['ab', 'a'.repeat(33), 'al ice', 'alice!', 'ålice', '', 'a/b']) {
			expect(UsernameInput.safeParse(bad).success).toBe(false);
		}
		expect(Username.safeParse('Alice').success).toBe(false);
	});
});

describe('envelope schema', () => {
	it('accepts a well-formed envelope', () => {
		expect(Envelope.safeParse(validEnvelope()).success).toBe(true);
	});

	it.each([
		['an unknown field', { extra: 1 }],
		['a non-v7 id', { id: '0190a1b2-c3d4-4e5f-8a6b-7c8d9e0f1a2b' }],
		['a short nonce', { nonce: b64(23) }],
		['a padded base64 signature', { signature: 'A'.repeat(84) + '==' }],
		['a ciphertext over the limit', { ciphertext: b64(LIMITS.ciphertextMaxBytes + 3) }],
		['an empty ciphertext', { ciphertext: '' }],
		['an upper-case sender', { from: 'Alice' }],
		['a text date', { unlockAt: '2030-01-01' }],
		['a fractional time', { sentAt: 1.5 }],
		['an unknown kind', { kind: 'html' }],
		['a missing announce', { announce: undefined }],
		['another version', { v: 2 }],
	])('rejects %s', (_name, patch) => {
		expect(Envelope.safeParse({ ...validEnvelope(), ...patch }).success).toBe(false);
	});
});

describe('REST bodies', () => {
	const register = {
		username: 'alice',
		salt: b64(16),
		kdf: { alg: 'argon2id13', opslimit: 2, memlimit: 64 * 1024 * 1024 },
		authKey: b64(32),
		identity: { signPk: b64(32), boxPk: b64(32) },
		keyBackup: { nonce: b64(24), ciphertext: b64(200) },
	};

	it('accepts valid registration, login and prelogin bodies', () => {
		expect(RegisterRequest.safeParse(register).success).toBe(true);
		expect(LoginRequest.safeParse({ username: 'Alice', authKey: b64(32) }).success).toBe(true);
		expect(PreloginRequest.safeParse({ username: 'alice' }).success).toBe(true);
	});

	it('refuses a weak KDF, a plaintext password field and malformed keys', () => {
		expect(RegisterRequest.safeParse({ ...register, kdf: { ...register.kdf, memlimit: 1024 } }).success).toBe(
			false,
		);
		expect(RegisterRequest.safeParse({ ...register, password: 'hunter2hunter2' }).success).toBe(false);
		expect(
			RegisterRequest.safeParse({ ...register, identity: { signPk: b64(31), boxPk: b64(32) } }).success,
		).toBe(false);
		expect(LoginRequest.safeParse({ username: 'alice', authKey: b64(16) }).success).toBe(false);
		expect(KeyBackup.safeParse({ nonce: b64(24) }).success).toBe(false);
	});
});

describe('socket payloads', () => {
	it('bounds sync pages and refuses unknown fields on every event', () => {
		expect(SyncRequest.safeParse({ after: null }).success).toBe(true);
		expect(SyncRequest.safeParse({ after: null, limit: LIMITS.syncPageMax + 1 }).success).toBe(false);
		for (const schema of Object.values(CLIENT_EVENT_SCHEMAS)) {
			expect(schema.safeParse({ surprise: true }).success).toBe(false);
			expect(schema.safeParse('text').success).toBe(false);
			expect(schema.safeParse(null).success).toBe(false);
		}
	});

	it('keeps message bodies to known types and bounded text', () => {
		expect(MessageBody.safeParse({ type: 'text', text: 'hi' }).success).toBe(true);
		expect(MessageBody.safeParse({ type: 'text', text: '' }).success).toBe(false);
		expect(MessageBody.safeParse({ type: 'text', text: 'x'.repeat(LIMITS.textMaxChars + 1) }).success).toBe(
			false,
		);
		expect(MessageBody.safeParse({ type: 'script', text: 'x' }).success).toBe(false);
	});
});

describe('envelope fields', () => {
	it('picks exactly the envelope out of a stored one, so it parses as an Envelope again', () => {
		const stored: StoredEnvelope = {
			...validEnvelope(),
			state: 'live',
			storedAt: 1,
			releasedAt: null,
			syncKey: '000000000000001-x',
		};
		expect(pickEnvelope(stored)).toEqual(validEnvelope());
		expect(Envelope.safeParse(pickEnvelope(stored)).success).toBe(true);
	});

	it('tells a resend from another envelope under the same id, whichever field differs', () => {
		const a = validEnvelope();
		expect(sameEnvelope(a, { ...a })).toBe(true);
		expect(sameEnvelope(a, { ...a, unlockAt: 5 })).toBe(false);
		expect(sameEnvelope(a, { ...a, announce: true })).toBe(false);
		expect(sameEnvelope(a, { ...a, signature: b64(64).replace(/^A/, 'B') })).toBe(false);
		expect(sameEnvelope(a, { ...a, expiresAfterMs: 300_000 })).toBe(false);
	});

	it('reads an envelope from before disappearing timers: no timer is the same as a null one', () => {
		const a = validEnvelope();
		expect('expiresAfterMs' in a).toBe(false);
		expect(Envelope.safeParse(a).success).toBe(true);
		expect(sameEnvelope(a, { ...a, expiresAfterMs: null })).toBe(true);
		for (const expiresAfterMs of [0, -1, 0.5, 7 * 86_400_000 + 1]) {
			expect(Envelope.safeParse({ ...a, expiresAfterMs }).success).toBe(false);
		}
	});
});
