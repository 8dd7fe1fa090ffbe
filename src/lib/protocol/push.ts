import { z } from './zod';
import { Username, b64Bytes } from './common';

/** Web Push (docs/PROTOCOL.md, "Web Push"): the hub's VAPID key and this device's subscription. */
export const PUSH_ROUTES = {
	/** The hub's VAPID public key, for `pushManager.subscribe({ applicationServerKey })`. */
	pushKey: '/api/push/key',
	/** This device's (session's) subscription: GET its state, PUT one, DELETE it. */
	pushSubscription: '/api/push/subscription',
} as const;

export const PUSH_LIMITS = {
	/** Longest endpoint URL accepted; the push services' own are well under 600 characters. */
	endpointMaxChars: 2048,
	/** An uncompressed P-256 public key (RFC 8291 `p256dh`): 0x04, then x and y. */
	p256dhBytes: 65,
	/** The subscription's authentication secret (RFC 8291 `auth`). */
	authBytes: 16,
} as const;

export const PushKeyResponse = z.strictObject({
	/** Uncompressed P-256 public key, base64url: the `applicationServerKey`. */
	publicKey: b64Bytes(PUSH_LIMITS.p256dhBytes),
});
export type PushKeyResponse = z.infer<typeof PushKeyResponse>;

/** A URL the hub will POST to; which hosts it accepts is the hub's policy (PUSH_ENDPOINT_HOSTS). */
const PushEndpoint = z
	.string()
	.max(PUSH_LIMITS.endpointMaxChars, `endpoint: at most ${PUSH_LIMITS.endpointMaxChars} characters`)
	.refine((text) => {
		if (!URL.canParse(text)) return false;
		const url = new URL(text);
		return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password;
	}, 'endpoint: expected an https URL without credentials');

/** `PushSubscription.toJSON()` as browsers give it. */
export const PushSubscribeRequest = z.strictObject({
	endpoint: PushEndpoint,
	expirationTime: z.number().int().min(0).nullable().optional(),
	keys: z.strictObject({
		p256dh: b64Bytes(PUSH_LIMITS.p256dhBytes).refine(
			(text) => text.startsWith('B'),
			'p256dh: expected an uncompressed P-256 point',
		),
		auth: b64Bytes(PUSH_LIMITS.authBytes),
	}),
});
export type PushSubscribeRequest = z.infer<typeof PushSubscribeRequest>;

/** Whether this device gets Web Push (GET, PUT and DELETE on PUSH_ROUTES.pushSubscription). */
export const PushStateResponse = z.strictObject({ enabled: z.boolean() });
export type PushStateResponse = z.infer<typeof PushStateResponse>;

/**
 * The whole plaintext of a push message, encrypted to the browser (RFC 8291): who wrote, nothing
 * more. The push service is a third party; the text, the time-lock and the conversation stay home.
 */
export const PushMessage = z.strictObject({ t: z.literal('msg'), from: Username });
export type PushMessage = z.infer<typeof PushMessage>;
