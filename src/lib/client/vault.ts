import { deserializeIdentity, fromB64, ready, serializeIdentity, toB64 } from '../crypto';
import type { Account, SealedAccount } from '../sdk';
import { UNLOCKED_KEY, clearUnlocked, lastTerms, rememberLastUser, saveTerms } from './device';

// The unlocked account as this tab keeps it across a reload (see device.ts): its keys, serialized.

interface StoredUnlocked {
	v: 1;
	identity: string;
	localKey: string;
	sealed: SealedAccount;
	expiresAt: number;
	lockAfterMs?: number;
	trusted?: boolean;
}

export function saveUnlocked(account: Account): void {
	const stored: StoredUnlocked = {
		v: 1,
		identity: serializeIdentity(account.identity),
		localKey: toB64(account.localKey),
		sealed: account.sealed,
		expiresAt: account.expiresAt,
		lockAfterMs: account.lockAfterMs,
		trusted: account.trusted,
	};
	sessionStorage.setItem(UNLOCKED_KEY, JSON.stringify(stored));
	rememberLastUser(account.username);
	saveTerms(account);
}

/** The account this tab unlocked before a reload, or null. A damaged entry is dropped. */
export async function loadUnlocked(): Promise<Account | null> {
	const text = sessionStorage.getItem(UNLOCKED_KEY);
	if (!text) return null;
	try {
		await ready();
		const stored = JSON.parse(text) as StoredUnlocked;
		if (stored.v !== 1) throw new Error('loadUnlocked: unknown version');
		const localKey = fromB64(stored.localKey);
		if (localKey.length !== 32) throw new Error('loadUnlocked: bad local key');
		return {
			username: stored.sealed.username,
			user: stored.sealed.user,
			identity: deserializeIdentity(stored.identity),
			localKey,
			sealed: stored.sealed,
			expiresAt: stored.expiresAt,
			serverNow: Date.now(),
			...lastTerms(),
			...(stored.lockAfterMs === undefined ? {} : { lockAfterMs: stored.lockAfterMs }),
			...(stored.trusted === undefined ? {} : { trusted: stored.trusted }),
		};
	} catch {
		clearUnlocked();
		return null;
	}
}
