import {
	LIMITS,
	UsernameInput,
	type KdfParams,
	type KeyBackup,
	type LoginRequest,
	type LoginResponse,
	type UserView,
} from '../protocol';
import {
	defaultKdf,
	deriveKeys,
	fromB64,
	generateIdentity,
	newSalt,
	newHistoryKey,
	openKeyBackup,
	publicIdentity,
	ready,
	sealIdentityBackup,
	toB64,
	type DerivedKeys,
	type Identity,
} from '../crypto';
import { ApiError, SecondFactorRequired } from './errors';
import type { HubApi } from './http';

/** Argon2id and the subkey split; the browser passes one that runs in a Web Worker. */
export type Deriver = (password: string, salt: Uint8Array, kdf: KdfParams) => Promise<DerivedKeys>;

export const deriveInPlace: Deriver = (password, salt, kdf) => deriveKeys(password, salt, kdf);

/** A signed-in account on this device: the identity is open, the local key unlocks local data. */
export interface Account {
	username: string;
	user: UserView;
	identity: Identity;
	localKey: Uint8Array;
	/** What a device keeps to unlock again offline: nothing here opens without the password. */
	sealed: SealedAccount;
	expiresAt: number;
	serverNow: number;
	/** The PWA's app lock: how long without user interaction before it forgets the keys (set by the hub). */
	lockAfterMs: number;
	/** The user marked this device as trusted at sign-in. */
	trusted: boolean;
}

export interface SealedAccount {
	username: string;
	salt: string;
	kdf: KdfParams;
	keyBackup: KeyBackup;
	user: UserView;
}

export function checkPassword(password: string): void {
	if (password.length < LIMITS.passwordMin) {
		throw new ApiError('BAD_REQUEST', `The password must have at least ${LIMITS.passwordMin} characters.`, 0);
	}
	if (password.length > LIMITS.passwordMax) {
		throw new ApiError('BAD_REQUEST', `The password must have at most ${LIMITS.passwordMax} characters.`, 0);
	}
}

export function normaliseUsername(username: string): string {
	const parsed = UsernameInput.safeParse(username);
	if (!parsed.success) {
		throw new ApiError('BAD_REQUEST', 'A username has 3 to 32 letters, digits, "_", "." or "-".', 0);
	}
	return parsed.data;
}

/** Creates the identity and the account; only authKey and sealed or public material leave the device. */
export async function createAccount(
	api: HubApi,
	username: string,
	password: string,
	options: { derive?: Deriver } = {},
): Promise<Account> {
	const name = normaliseUsername(username);
	checkPassword(password);
	await ready();
	const salt = newSalt();
	const kdf = defaultKdf();
	const keys = await (options.derive ?? deriveInPlace)(password, salt, kdf);
	const identity = generateIdentity();
	const historyKey = newHistoryKey();
	const keyBackup = sealIdentityBackup(identity, keys.wrapKey, historyKey);
	const reply = await api.register({
		username: name,
		salt: toB64(salt),
		kdf,
		authKey: toB64(keys.authKey),
		identity: publicIdentity(identity),
		keyBackup,
	});
	return toAccount(reply, identity, historyKey);
}

/**
 * Opens a key backup with the keys a password derived: the identity and the key that seals this
 * account's local history — the backup's history key, or for an account made before backups
 * carried one, the localKey derived from the password. Throws when the password is wrong.
 */
export function openAccountKeys(
	keyBackup: KeyBackup,
	keys: DerivedKeys,
): { identity: Identity; localKey: Uint8Array } {
	const { identity, historyKey } = openKeyBackup(keyBackup, keys.wrapKey);
	return { identity, localKey: historyKey ?? keys.localKey };
}

/**
 * Sends the password step and hands the hub's reply to `finish`; when the account wants a second
 * factor, throws a SecondFactorRequired whose `complete(code)` runs the second step, then `finish`.
 */
export async function loginWithKey<T>(
	api: HubApi,
	request: LoginRequest,
	finish: (reply: LoginResponse) => T | Promise<T>,
): Promise<T> {
	let reply: LoginResponse;
	try {
		reply = await api.login(request);
	} catch (error) {
		if (error instanceof ApiError && error.code === 'TOTP_REQUIRED' && error.ticket) {
			const ticket = error.ticket;
			throw new SecondFactorRequired(error.message, ticket, async (code) =>
				finish(await api.loginTotp({ ticket, code })),
			);
		}
		throw error;
	}
	return finish(reply);
}

/**
 * Logs in and restores the identity from the key backup (how a new device gets its keys). With
 * two-factor authentication on, throws SecondFactorRequired: complete it with the user's code.
 */
export async function signIn(
	api: HubApi,
	username: string,
	password: string,
	options: { derive?: Deriver; trustDevice?: boolean } = {},
): Promise<Account> {
	const name = normaliseUsername(username);
	checkPassword(password);
	await ready();
	const pre = await api.prelogin(name);
	const keys = await (options.derive ?? deriveInPlace)(password, fromB64(pre.salt), pre.kdf);
	const request = { username: name, authKey: toB64(keys.authKey), trustDevice: options.trustDevice };
	return loginWithKey(api, request, (reply) => {
		const { identity, localKey } = openAccountKeys(reply.keyBackup, keys);
		const published = publicIdentity(identity);
		if (published.signPk !== reply.user.identity.signPk || published.boxPk !== reply.user.identity.boxPk) {
			throw new ApiError('INTERNAL', 'The key backup does not match the published identity.', 0);
		}
		return toAccount(reply, identity, localKey);
	});
}

/** Opens a device's sealed account with the password, without the network. */
export async function unlockSealed(
	sealed: SealedAccount,
	password: string,
	options: { derive?: Deriver } = {},
): Promise<{ identity: Identity; localKey: Uint8Array }> {
	await ready();
	const keys = await (options.derive ?? deriveInPlace)(password, fromB64(sealed.salt), sealed.kdf);
	try {
		return openAccountKeys(sealed.keyBackup, keys);
	} catch {
		throw new ApiError('INVALID_CREDENTIALS', 'Wrong password.', 0);
	}
}

export interface ChangePasswordOptions {
	derive?: Deriver;
	/** Keep the account's other sessions signed in (by default they end). */
	keepOtherSessions?: boolean;
}

/**
 * Changes the account's password: the current one proves itself by its authKey; the new one gets
 * a new salt and the default KDF, and the same identity and history key are sealed again under its
 * wrapKey, so safety numbers stay and local history opens as before (nothing is re-encrypted).
 * Returns the account with its new sealed data, for the device to keep.
 */
export async function changePassword(
	api: HubApi,
	account: Account,
	currentPassword: string,
	newPassword: string,
	options: ChangePasswordOptions = {},
): Promise<{ account: Account; revokedSessions: number }> {
	checkPassword(newPassword);
	if (newPassword === currentPassword) {
		throw new ApiError('BAD_REQUEST', 'The new password must differ from the current one.', 0);
	}
	await ready();
	const derive = options.derive ?? deriveInPlace;
	// The hub's salt, not this device's copy: another device may have changed the password since.
	const pre = await api.prelogin(account.username);
	const current = await derive(currentPassword, fromB64(pre.salt), pre.kdf);
	const salt = newSalt();
	const kdf = defaultKdf();
	const next = await derive(newPassword, salt, kdf);
	const reply = await api.changePassword({
		currentAuthKey: toB64(current.authKey),
		salt: toB64(salt),
		kdf,
		authKey: toB64(next.authKey),
		keyBackup: sealIdentityBackup(account.identity, next.wrapKey, account.localKey),
		keepOtherSessions: options.keepOtherSessions,
	});
	const sealed: SealedAccount = {
		...account.sealed,
		salt: reply.salt,
		kdf: reply.kdf,
		keyBackup: reply.keyBackup,
	};
	return { account: { ...account, sealed }, revokedSessions: reply.revokedSessions };
}

/**
 * Deletes the account on the hub: the password proves itself by its authKey (derived with the
 * hub's salt), with a TOTP or recovery code when two-factor authentication is on. What the device
 * keeps is the caller's to erase.
 */
export async function deleteAccount(
	api: HubApi,
	username: string,
	password: string,
	options: { code?: string; derive?: Deriver } = {},
): Promise<void> {
	await ready();
	const pre = await api.prelogin(username);
	const keys = await (options.derive ?? deriveInPlace)(password, fromB64(pre.salt), pre.kdf);
	await api.deleteAccount({ authKey: toB64(keys.authKey), code: options.code });
}

function toAccount(reply: LoginResponse, identity: Identity, localKey: Uint8Array): Account {
	return {
		username: reply.user.username,
		user: reply.user,
		identity,
		localKey,
		sealed: {
			username: reply.user.username,
			salt: reply.salt,
			kdf: reply.kdf,
			keyBackup: reply.keyBackup,
			user: reply.user,
		},
		expiresAt: reply.expiresAt,
		serverNow: reply.serverNow,
		lockAfterMs: reply.lockAfterMs,
		trusted: reply.trusted,
	};
}
