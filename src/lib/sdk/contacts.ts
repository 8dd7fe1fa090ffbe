import { contactCardLink, type Contact, type ContactCard } from '../protocol';
import { decodePublicIdentity, fingerprintMatches, partyFingerprint } from '../crypto';
import type { Account } from './account';
import { FingerprintMismatchError } from './errors';
import type { Messenger, PinnedKeys } from './messenger';

/** This account's contact card: its username and key fingerprint, as a link under `origin`. */
export function ownContactCard(origin: string, account: Pick<Account, 'username' | 'user'>): string {
	const fingerprint = partyFingerprint(account.username, decodePublicIdentity(account.user.identity));
	return contactCardLink(origin, { username: account.username, fingerprint });
}

/**
 * Adds the person on a contact card: fetches their published keys, checks them against the card's
 * fingerprint, pins them (the card vouches for them, so they replace an older pin) and makes them a
 * contact on the hub. A mismatch throws FingerprintMismatchError before anything is pinned or added.
 */
export async function addContactFromCard(
	messenger: Messenger,
	card: ContactCard,
): Promise<{ contact: Contact; pin: PinnedKeys }> {
	if (card.username === messenger.username) throw new Error('That is your own card.');
	const { identity } = await messenger.api.userKeys(card.username);
	if (!fingerprintMatches(card.fingerprint, card.username, decodePublicIdentity(identity))) {
		throw new FingerprintMismatchError(card.username);
	}
	const pin: PinnedKeys = { username: card.username, ...identity, pinnedAt: Date.now() };
	await messenger.pins.put(pin);
	const contact = await messenger.api.setContact(card.username, 'accepted');
	return { contact, pin };
}
