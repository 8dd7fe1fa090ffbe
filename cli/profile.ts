import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { FileBody, KdfParams, KeyBackup, UserView, b64Bytes } from '../src/lib/protocol';
import {
	deserializeIdentity,
	fromB64,
	fromUtf8,
	openWithKey,
	sealWithKey,
	serializeIdentity,
	toB64,
	utf8,
	type Identity,
} from '../src/lib/crypto';
import type { PinnedKeys, UploadState, Verification } from '../src/lib/sdk';
import { t } from './i18n';

/**
 * What this device keeps for one account on one hub. The file itself is readable JSON with only
 * what is public or already sealed (salt, KDF cost, the key backup); everything else — the
 * identity's secret keys, the session cookie, pinned and verified keys, the sync cursor — is in `vault`,
 * sealed with the account's localKey, which only the password unlocks.
 */
export interface Profile {
	v: 1;
	server: string;
	username: string;
	salt: string;
	kdf: KdfParams;
	keyBackup: KeyBackup;
	vault: { nonce: string; ciphertext: string };
}

/** The opened vault. */
export interface Vault {
	identity: Identity;
	user: UserView;
	/** Session cookies by name, so one command's session serves the next. */
	cookies: Record<string, string>;
	pins: Record<string, PinnedKeys>;
	/** Peers whose safety number was compared here, with the keys it was compared for. */
	verified: Record<string, Verification>;
	/** The newest sync key this device has read. */
	cursor: string | null;
	/** Ids already printed, by sync key; only those inside the sync overlap window are kept. */
	seen: Record<string, string>;
	/** Read receipts on or off for the account, and the hub time of the setting (the newest wins). */
	receipts: { on: boolean; at: number };
	/** Each conversation's disappearing timer (ms) as last set by either side; none when off. */
	timers: Record<string, number>;
	/**
	 * Uploads `send-file` began and has not sent yet, by what names the file (path, size, mtime), so
	 * the next try resumes them. Sealed like the rest: each holds its file's key.
	 */
	uploads?: Record<string, UploadState>;
	/**
	 * Downloads `read --save-dir` began and has not finished, by message id, so the next read
	 * resumes them from the ciphertext they kept. Sealed like the rest: each holds its file's key.
	 */
	downloads?: Record<string, PendingDownload>;
}

const ProfileFile = z.strictObject({
	v: z.literal(1),
	server: z.string(),
	username: z.string(),
	salt: b64Bytes(16),
	kdf: KdfParams,
	keyBackup: KeyBackup,
	vault: z.strictObject({ nonce: z.string(), ciphertext: z.string() }),
});

const PinFile = z.strictObject({
	username: z.string(),
	signPk: z.string(),
	boxPk: z.string(),
	pinnedAt: z.number(),
});

const VerificationFile = z.strictObject({
	username: z.string(),
	signPk: z.string(),
	boxPk: z.string(),
	verifiedAt: z.number(),
});

/**
 * What resuming a download takes: the file message's fields that `downloadFile` reads (its key
 * among them; not the thumbnail), who sent it, where its ciphertext so far is kept, where its
 * plaintext was being written (what a kill left there is removed by the next try; absolute paths
 * both), and when it was last tried (ms).
 */
const PendingDownloadFile = FileBody.omit({ type: true, thumbnail: true }).extend({
	from: z.string(),
	kept: z.string(),
	part: z.string(),
	at: z.number(),
});
export type PendingDownload = z.infer<typeof PendingDownloadFile>;

const VaultFile = z.strictObject({
	v: z.literal(1),
	identity: z.string(),
	user: UserView,
	cookies: z.record(z.string(), z.string()),
	pins: z.record(z.string(), PinFile),
	// Absent from vaults sealed before verification existed.
	verified: z.record(z.string(), VerificationFile).default({}),
	cursor: z.string().nullable(),
	seen: z.record(z.string(), z.string()),
	receipts: z.strictObject({ on: z.boolean(), at: z.number() }).optional(),
	// Absent in vaults sealed before disappearing messages.
	timers: z.record(z.string(), z.number()).optional(),
	uploads: z
		.record(
			z.string(),
			z.strictObject({
				fileId: z.string(),
				key: z.string(),
				header: z.string(),
				size: z.number(),
				chunkSize: z.number(),
			}),
		)
		.optional(),
	// Absent when no download is pending, and in vaults sealed before downloads resumed.
	downloads: z.record(z.string(), PendingDownloadFile).optional(),
});

const CurrentFile = z.record(z.string(), z.string());

/** The local store failed: a missing account, a wrong password, a damaged file. */
export class ProfileError extends Error {
	constructor(
		readonly kind: 'missing' | 'wrong-password' | 'damaged',
		message: string,
	) {
		super(message);
		this.name = 'ProfileError';
	}
}

export function defaultHome(env: Record<string, string | undefined>): string {
	return env.HOURGLASS_HOME || join(homedir(), '.hourglass');
}

/** A file-name-safe form of a hub origin: `http://127.0.0.1:3000` → `http_127.0.0.1_3000`. */
export function serverKey(server: string): string {
	return server.replace(/^(https?):\/\//, '$1_').replace(/[^A-Za-z0-9.-]/g, '_');
}

export class ProfileStore {
	constructor(readonly home: string) {}

	path(server: string, username: string): string {
		return join(this.home, serverKey(server), `${username}.json`);
	}

	/** The account that last signed in on this server, if any. */
	current(server: string): string | null {
		return this.#readCurrent()[serverKey(server)] ?? null;
	}

	setCurrent(server: string, username: string | null): void {
		const current = this.#readCurrent();
		if (username === null) delete current[serverKey(server)];
		else current[serverKey(server)] = username;
		writePrivate(join(this.home, 'current.json'), JSON.stringify(current, null, '\t'));
	}

	read(server: string, username: string): Profile | null {
		const text = readIfExists(this.path(server, username));
		if (text === null) return null;
		let json: unknown;
		try {
			json = JSON.parse(text);
		} catch {
			throw new ProfileError('damaged', t('profile.notJson', { path: this.path(server, username) }));
		}
		const parsed = ProfileFile.safeParse(json);
		if (!parsed.success)
			throw new ProfileError('damaged', t('profile.damagedFile', { path: this.path(server, username) }));
		return parsed.data;
	}

	write(profile: Profile): void {
		writePrivate(this.path(profile.server, profile.username), JSON.stringify(profile, null, '\t'));
	}

	remove(server: string, username: string): void {
		rmSync(this.path(server, username), { force: true });
		if (this.current(server) === username) this.setCurrent(server, null);
	}

	#readCurrent(): Record<string, string> {
		const text = readIfExists(join(this.home, 'current.json'));
		if (text === null) return {};
		try {
			const parsed = CurrentFile.safeParse(JSON.parse(text));
			return parsed.success ? parsed.data : {};
		} catch {
			return {};
		}
	}
}

export function sealVault(vault: Vault, localKey: Uint8Array): Profile['vault'] {
	const text = JSON.stringify({
		v: 1,
		identity: serializeIdentity(vault.identity),
		user: vault.user,
		cookies: vault.cookies,
		pins: vault.pins,
		verified: vault.verified,
		cursor: vault.cursor,
		seen: vault.seen,
		receipts: vault.receipts,
		timers: vault.timers,
		...(vault.uploads && Object.keys(vault.uploads).length > 0 ? { uploads: vault.uploads } : {}),
		...(vault.downloads && Object.keys(vault.downloads).length > 0 ? { downloads: vault.downloads } : {}),
	});
	const { nonce, ciphertext } = sealWithKey(utf8(text), localKey);
	return { nonce: toB64(nonce), ciphertext: toB64(ciphertext) };
}

export function openVault(sealed: Profile['vault'], localKey: Uint8Array): Vault {
	let plaintext: Uint8Array;
	try {
		plaintext = openWithKey(fromB64(sealed.ciphertext), fromB64(sealed.nonce), localKey);
	} catch {
		throw new ProfileError('wrong-password', t('profile.wrongPassword'));
	}
	const parsed = VaultFile.safeParse(JSON.parse(fromUtf8(plaintext)));
	if (!parsed.success) throw new ProfileError('damaged', t('profile.damaged'));
	const { identity, user, cookies, pins, verified, cursor, seen, timers, uploads, downloads } = parsed.data;
	const receipts = parsed.data.receipts ?? { on: false, at: 0 };
	return {
		identity: deserializeIdentity(identity),
		user,
		cookies,
		pins,
		verified,
		cursor,
		seen,
		receipts,
		timers: timers ?? {},
		...(uploads ? { uploads } : {}),
		...(downloads ? { downloads } : {}),
	};
}

function readIfExists(path: string): string | null {
	try {
		return readFileSync(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
		throw error;
	}
}

/** Owner-only file, replaced atomically so an interrupted write never leaves half a profile. */
function writePrivate(path: string, text: string): void {
	mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
	const temporary = `${path}.${process.pid}.tmp`;
	writeFileSync(temporary, text + '\n', { mode: 0o600 });
	renameSync(temporary, path);
}
