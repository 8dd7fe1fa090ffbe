import { z } from './zod';
import { EpochMs, Username, UsernameInput } from './common';

/**
 * How the signed-in user stands with someone, as the hub keeps it: `accepted` (a contact: their
 * messages go to the chat list, no request limit) or `blocked` (the hub stores nothing more from
 * them). No relation at all means a stranger: their first messages are a message request.
 */
export const ContactState = z.enum(['accepted', 'blocked']);
export type ContactState = z.infer<typeof ContactState>;

export const Contact = z.strictObject({
	username: Username,
	state: ContactState,
	/** When the relation took its current state (the hub's clock). */
	since: EpochMs,
});
export type Contact = z.infer<typeof Contact>;

export const ContactListResponse = z.strictObject({ contacts: z.array(Contact) });
export type ContactListResponse = z.infer<typeof ContactListResponse>;

export const ContactParams = z.strictObject({ username: UsernameInput });

/** Adds or accepts (`accepted`) or blocks (`blocked`) someone. */
export const ContactSetRequest = z.strictObject({ state: ContactState });
export type ContactSetRequest = z.infer<typeof ContactSetRequest>;

export const ContactRemoveResponse = z.strictObject({ removed: z.boolean() });
export type ContactRemoveResponse = z.infer<typeof ContactRemoveResponse>;

/** A declined request: how many of that sender's envelopes to this user the hub deleted. */
export const DeclineResponse = z.strictObject({ deleted: z.number().int().nonnegative() });
export type DeclineResponse = z.infer<typeof DeclineResponse>;

/** Pushed to the user's own devices when their relation with someone changed on any device or hub. */
export const ContactChanged = z.strictObject({
	username: Username,
	/** The new state, or null when the relation is gone (removed, unblocked, declined). */
	state: ContactState.nullable(),
	since: EpochMs,
	/** The hub deleted what they had left stored for this user (a declined or blocked request): devices drop it too. */
	cleared: z.boolean(),
});
export type ContactChanged = z.infer<typeof ContactChanged>;

/** A party's key fingerprint: 30 digits over their username and public keys (crypto/safety.ts). */
export const Fingerprint = z.string().regex(/^\d{30}$/, 'a fingerprint has 30 digits');

/** Where a contact card link opens in the PWA: `<origin>/add#u=<username>&fp=<30 digits>`. */
export const CONTACT_CARD_PATH = '/add';

export interface ContactCard {
	username: string;
	fingerprint: string;
}

/** The link of a contact card; the details ride in the fragment, which browsers never send to a server. */
export function contactCardLink(origin: string, card: ContactCard): string {
	return `${origin.replace(/\/+$/, '')}${CONTACT_CARD_PATH}#u=${encodeURIComponent(card.username)}&fp=${card.fingerprint}`;
}

/** The card in a link (or in just its fragment, `#u=…&fp=…`); null when it is not a well-formed card. */
export function parseContactCard(text: string): ContactCard | null {
	const hash = text.indexOf('#');
	if (hash < 0) return null;
	const params = new URLSearchParams(text.slice(hash + 1));
	const username = UsernameInput.safeParse(params.get('u') ?? '');
	const fingerprint = Fingerprint.safeParse(params.get('fp') ?? '');
	if (!username.success || !fingerprint.success) return null;
	return { username: username.data, fingerprint: fingerprint.data };
}
