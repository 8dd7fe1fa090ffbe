import { z } from './zod';
import { LIMITS } from './limits';

/** Canonical (lower-case) username, as stored and as written in envelopes. */
export const Username = z
	.string()
	.regex(
		new RegExp(`^[a-z0-9_.-]{${LIMITS.usernameMin},${LIMITS.usernameMax}}$`),
		'username: 3 to 32 lower-case letters, digits, "_", "." or "-"',
	);

/** A username as a person types it: any case, normalised to the canonical form. */
export const UsernameInput = z
	.string()
	.trim()
	.regex(
		new RegExp(`^[A-Za-z0-9_.-]{${LIMITS.usernameMin},${LIMITS.usernameMax}}$`),
		'username: 3 to 32 letters, digits, "_", "." or "-"',
	)
	.transform((s) => s.toLowerCase());

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Unpadded base64url length of n bytes. */
export function b64Length(bytes: number): number {
	return Math.ceil((bytes * 4) / 3);
}

/** Unpadded base64url text of exactly `bytes` bytes. */
export function b64Bytes(bytes: number) {
	return z
		.string()
		.length(b64Length(bytes), `expected base64url of ${bytes} bytes`)
		.regex(B64URL, 'expected base64url without padding');
}

/** Unpadded base64url text of between `min` and `max` bytes. */
export function b64Range(min: number, max: number) {
	return z
		.string()
		.min(b64Length(min), `expected at least ${min} bytes`)
		.max(b64Length(max), `expected at most ${max} bytes`)
		.regex(B64URL, 'expected base64url without padding');
}

/** A UUIDv7: sender-made message ids sort by creation time. */
export const MessageId = z
	.string()
	.regex(
		/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
		'expected a lower-case UUIDv7',
	);

/** Milliseconds since the Unix epoch. */
export const EpochMs = z.number().int().min(0).max(8.64e15);

/** Public halves of a user's identity. */
export const PublicIdentity = z.strictObject({
	signPk: b64Bytes(32),
	boxPk: b64Bytes(32),
});
export type PublicIdentity = z.infer<typeof PublicIdentity>;
