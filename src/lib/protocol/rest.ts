import { z } from './zod';
import { EpochMs, PublicIdentity, Username, UsernameInput, b64Bytes, b64Range } from './common';
import { KDF_BOUNDS, LIMITS, type DisappearingChoice } from './limits';
import { PUSH_ROUTES } from './push';

/** Every REST route, so that no path is written twice. */
export const ROUTES = {
	prelogin: '/api/auth/prelogin',
	register: '/api/auth/register',
	login: '/api/auth/login',
	/** The second step of a sign-in with two-factor authentication: the ticket and a code. */
	loginTotp: '/api/auth/login/totp',
	/** Two-factor authentication of the signed-in account: its state, setup, enable, disable. */
	totp: '/api/auth/totp',
	totpSetup: '/api/auth/totp/setup',
	totpEnable: '/api/auth/totp/enable',
	totpDisable: '/api/auth/totp/disable',
	logout: '/api/auth/logout',
	session: '/api/auth/session',
	sessions: '/api/sessions',
	revokeSessions: '/api/sessions/revoke',
	/** The account's activity log: sign-ins, failures, security changes (newest first). */
	activity: '/api/activity',
	password: '/api/auth/password',
	/** Deletes the signed-in account: password, and a code when two-factor authentication is on. */
	accountDelete: '/api/account/delete',
	userKeys: (username: string) => `/api/users/${encodeURIComponent(username)}/keys`,
	userKeysPattern: '/api/users/:username/keys',
	/** The signed-in user's contacts and blocks; one of them by username; declining a request. */
	contacts: '/api/contacts',
	contact: (username: string) => `/api/contacts/${encodeURIComponent(username)}`,
	contactPattern: '/api/contacts/:username',
	contactDecline: (username: string) => `/api/contacts/${encodeURIComponent(username)}/decline`,
	contactDeclinePattern: '/api/contacts/:username/decline',
	/** Files (docs/PROTOCOL.md, "Files"): create an upload, its status, chunks, finish, the whole stream. */
	files: '/api/files',
	file: (id: string) => `/api/files/${id}`,
	filePattern: '/api/files/:id',
	fileChunk: (id: string, n: number) => `/api/files/${id}/chunks/${n}`,
	fileChunkPattern: '/api/files/:id/chunks/:n',
	fileFinish: (id: string) => `/api/files/${id}/finish`,
	fileFinishPattern: '/api/files/:id/finish',
	fileContent: (id: string, from = 0) => `/api/files/${id}/content${from > 0 ? `?from=${from}` : ''}`,
	fileContentPattern: '/api/files/:id/content',
	health: '/api/health',
	time: '/api/time',
	/** What clients need to know of this hub's settings: the delete window, the disappearing timers. */
	clientConfig: '/api/config',
	/** Prometheus text, for operators only (METRICS_TOKEN, METRICS_PORT). */
	metrics: '/metrics',
	...PUSH_ROUTES,
} as const;

/**
 * The cookies the hub sets: the session, and the device token that lets a device which signed in
 * to an account before keep signing in while that account is locked out for strangers. Over HTTPS
 * each name takes the `__Host-` prefix.
 */
export const COOKIE_NAMES = { session: 'hg_session', device: 'hg_device' } as const;

/** Whether a cookie's name is `base` with or without its `__Host-` prefix. */
export function isCookieNamed(name: string, base: string): boolean {
	return name === base || name === `__Host-${base}`;
}

export const KdfParams = z.strictObject({
	alg: z.literal('argon2id13'),
	opslimit: z.number().int().min(KDF_BOUNDS.opsMin).max(KDF_BOUNDS.opsMax),
	memlimit: z.number().int().min(KDF_BOUNDS.memMin).max(KDF_BOUNDS.memMax),
});
export type KdfParams = z.infer<typeof KdfParams>;

/** The identity's secret halves, sealed in the browser with wrapKey (crypto_secretbox). */
export const KeyBackup = z.strictObject({
	nonce: b64Bytes(24),
	ciphertext: b64Range(16, 4096),
});
export type KeyBackup = z.infer<typeof KeyBackup>;

export const PreloginRequest = z.strictObject({ username: UsernameInput });
export type PreloginRequest = z.input<typeof PreloginRequest>;
export const PreloginResponse = z.strictObject({ salt: b64Bytes(16), kdf: KdfParams });
export type PreloginResponse = z.infer<typeof PreloginResponse>;

export const RegisterRequest = z.strictObject({
	username: UsernameInput,
	salt: b64Bytes(16),
	kdf: KdfParams,
	authKey: b64Bytes(32),
	identity: PublicIdentity,
	keyBackup: KeyBackup,
});
export type RegisterRequest = z.input<typeof RegisterRequest>;

export const LoginRequest = z.strictObject({
	username: UsernameInput,
	authKey: b64Bytes(32),
	trustDevice: z.boolean().optional(),
});
export type LoginRequest = z.input<typeof LoginRequest>;

/** A 6-digit TOTP code (RFC 6238, 30 s steps, SHA-1), spaces allowed as apps show them. */
export const TotpCode = z
	.string()
	.max(16)
	.transform((text) => text.replace(/\s+/g, ''))
	.pipe(z.string().regex(/^\d{6}$/, 'a code has 6 digits'));

/** A recovery code as shown (4 groups of 4 characters); case, spaces and dashes do not matter. */
export const RecoveryCode = z
	.string()
	.max(32)
	.transform((text) => text.replace(/[\s-]+/g, '').toUpperCase())
	.pipe(z.string().regex(/^[A-Z2-7]{16}$/, 'a recovery code has 16 letters and digits'));

/** What the user typed as the second factor: a TOTP code or a recovery code. */
export const SecondFactorCode = z.union([TotpCode, RecoveryCode]);

export const TOTP_PARAMS = { issuer: 'Hourglass', digits: 6, periodSeconds: 30, algorithm: 'SHA1' } as const;
/** Recovery codes given when two-factor authentication is enabled; each signs in once. */
export const RECOVERY_CODE_COUNT = 10;

export const LoginTotpRequest = z.strictObject({
	ticket: z.string().min(1).max(512),
	code: SecondFactorCode,
});
export type LoginTotpRequest = z.input<typeof LoginTotpRequest>;

export const TotpStatus = z.strictObject({
	enabled: z.boolean(),
	recoveryCodesLeft: z.number().int().min(0).max(RECOVERY_CODE_COUNT),
});
export type TotpStatus = z.infer<typeof TotpStatus>;

/** Starting setup asks for the password again: a stolen session alone cannot tie the account to a new factor. */
export const TotpSetupRequest = z.strictObject({ authKey: b64Bytes(32) });
export type TotpSetupRequest = z.input<typeof TotpSetupRequest>;
export const TotpSetupResponse = z.strictObject({
	/** Base32, for typing into an authenticator app by hand. */
	secret: z.string().regex(/^[A-Z2-7]+=*$/),
	/** The otpauth:// URI that the QR code carries. */
	uri: z.string().startsWith('otpauth://totp/').max(512),
});
export type TotpSetupResponse = z.infer<typeof TotpSetupResponse>;

export const TotpEnableRequest = z.strictObject({ code: TotpCode });
export type TotpEnableRequest = z.input<typeof TotpEnableRequest>;
/** Shown once: the hub keeps only their hashes. */
export const TotpEnableResponse = z.strictObject({
	recoveryCodes: z.array(z.string().regex(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/)).length(RECOVERY_CODE_COUNT),
});
export type TotpEnableResponse = z.infer<typeof TotpEnableResponse>;

export const TotpDisableRequest = z.strictObject({ authKey: b64Bytes(32), code: SecondFactorCode });
export type TotpDisableRequest = z.input<typeof TotpDisableRequest>;
/**
 * A password change, from a signed-in session: the current password proves itself by its authKey;
 * the new salt, KDF parameters, authKey and re-wrapped key backup replace the old ones together.
 * Every other session of the account ends unless `keepOtherSessions`.
 */
export const PasswordChangeRequest = z.strictObject({
	currentAuthKey: b64Bytes(32),
	salt: b64Bytes(16),
	kdf: KdfParams,
	authKey: b64Bytes(32),
	keyBackup: KeyBackup,
	keepOtherSessions: z.boolean().optional(),
});
export type PasswordChangeRequest = z.input<typeof PasswordChangeRequest>;

export const PasswordChangeResponse = z.strictObject({
	salt: b64Bytes(16),
	kdf: KdfParams,
	keyBackup: KeyBackup,
	/** How many other sessions were ended. */
	revokedSessions: z.number().int().nonnegative(),
});
export type PasswordChangeResponse = z.infer<typeof PasswordChangeResponse>;

/**
 * Deleting the signed-in account: the password proves itself by its authKey, and with two-factor
 * authentication on a TOTP or recovery code is needed too (TOTP_REQUIRED without one).
 */
export const AccountDeleteRequest = z.strictObject({
	authKey: b64Bytes(32),
	code: SecondFactorCode.optional(),
});
export type AccountDeleteRequest = z.input<typeof AccountDeleteRequest>;

export const UserView = z.strictObject({ username: Username, identity: PublicIdentity });
export type UserView = z.infer<typeof UserView>;

/** How this device's session behaves, in every sign-in reply and session view. */
const SessionTerms = {
	/** When the session ends unless it is used (sliding; an open connection counts as use). */
	expiresAt: EpochMs,
	serverNow: EpochMs,
	/** The PWA locks itself after this long without user interaction (the hub's SESSION_IDLE_MINUTES). */
	lockAfterMs: z.number().int().positive(),
	/** The user marked this device as trusted at sign-in. */
	trusted: z.boolean(),
};

export const SessionView = z.strictObject({ user: UserView, ...SessionTerms });
export type SessionView = z.infer<typeof SessionView>;

/** Login and registration both answer with everything a new device needs to restore the identity. */
export const LoginResponse = z.strictObject({
	user: UserView,
	salt: b64Bytes(16),
	kdf: KdfParams,
	keyBackup: KeyBackup,
	...SessionTerms,
});
export type LoginResponse = z.infer<typeof LoginResponse>;

/** A session's id: the SHA-256 of its token, base64url (it cannot be turned back into the token). */
export const SessionId = b64Bytes(32);

/** One signed-in device as the Devices page lists it. */
export const DeviceSession = z.strictObject({
	id: SessionId,
	/** Read from the user agent at sign-in, e.g. "Firefox on Linux" or "Hourglass CLI on macOS". */
	device: z.string().max(100),
	createdAt: EpochMs,
	/** The last request or open connection, to within a quarter of an hour. */
	lastSeenAt: EpochMs,
	expiresAt: EpochMs,
	/** The network it signed in from (`203.0.0.0/16`, `2001:db8:85a3::/48`), or null if unknown. */
	place: z.string().max(64).nullable(),
	trusted: z.boolean(),
	/** It gets Web Push while it has no connection open ("Notifications when the app is closed"). */
	push: z.boolean(),
	/** The session this request came with. */
	current: z.boolean(),
});
export type DeviceSession = z.infer<typeof DeviceSession>;

export const SessionListResponse = z.strictObject({ sessions: z.array(DeviceSession) });
export type SessionListResponse = z.infer<typeof SessionListResponse>;

/** Sign one device out (any of the user's sessions, this one included), or every other one. */
export const RevokeSessionsRequest = z.union([
	z.strictObject({ id: SessionId }),
	z.strictObject({ others: z.literal(true) }),
]);
export type RevokeSessionsRequest = z.infer<typeof RevokeSessionsRequest>;

export const RevokeSessionsResponse = z.strictObject({ revoked: z.number().int().min(0) });
export type RevokeSessionsResponse = z.infer<typeof RevokeSessionsResponse>;

/** What the activity log records; docs/SECURITY.md, "Activity log", says what each one means. */
export const ActivityType = z.enum([
	'registered',
	'sign-in',
	'sign-in-failed',
	'password-changed',
	'2fa-enabled',
	'2fa-disabled',
	'recovery-code-used',
	'sessions-revoked',
	'lockout',
]);
export type ActivityType = z.infer<typeof ActivityType>;

/** An activity event's id: its hub time, zero-padded, then random, so ids sort by time. */
export const ActivityId = z.string().regex(/^\d{13}-[A-Za-z0-9_-]{8}$/, 'an activity id');

/** One event of the activity log. Device and place are as coarse as the Devices page's. */
export const ActivityEvent = z.strictObject({
	id: ActivityId,
	at: EpochMs,
	type: ActivityType,
	/** The device that did it, read from its user agent ("Chrome on Android"), or null. */
	device: z.string().max(100).nullable(),
	/** The network it came from (`203.0.0.0/16`), or null. */
	place: z.string().max(64).nullable(),
	/** sign-in: the device had not signed in to this account before (no device token for it). */
	newDevice: z.boolean().optional(),
	/** sign-in-failed: what was wrong. */
	reason: z.enum(['password', 'code']).optional(),
	/** sessions-revoked: how many sessions ended. */
	count: z.number().int().nonnegative().optional(),
	/** lockout: when sign-ins from unknown devices are let in again. */
	until: EpochMs.optional(),
});
export type ActivityEvent = z.infer<typeof ActivityEvent>;

/** A page of the log, newest first: `before` is the id of the oldest event already shown. */
export const ActivityQuery = z.strictObject({
	before: ActivityId.optional(),
	limit: z.coerce.number().int().min(1).max(LIMITS.activityPageMax).optional(),
});
export type ActivityQuery = z.infer<typeof ActivityQuery>;

export const ActivityResponse = z.strictObject({
	events: z.array(ActivityEvent),
	/** Older events exist: ask again with `before` the last id. */
	more: z.boolean(),
});
export type ActivityResponse = z.infer<typeof ActivityResponse>;

export const UserKeysParams = z.strictObject({ username: UsernameInput });
export const UserKeysResponse = UserView;
export type UserKeysResponse = UserView;

export const HealthResponse = z.strictObject({
	status: z.enum(['ok', 'degraded']),
	db: z.enum(['up', 'down']),
	serverNow: EpochMs,
});
export type HealthResponse = z.infer<typeof HealthResponse>;

export const TimeResponse = z.strictObject({ serverNow: EpochMs });
export type TimeResponse = z.infer<typeof TimeResponse>;

const DisappearingTimer = z.number().int().min(1).max(LIMITS.disappearingMaxMs);

/** GET ROUTES.clientConfig, for anyone (nothing in it is secret). */
export const ClientConfig = z.strictObject({
	/** How long after sending its sender may delete a message for everyone. */
	deleteWindowMs: z.number().int().positive(),
	/** Each disappearing-message choice's timer, in milliseconds. */
	disappearingTimers: z.strictObject({
		'5m': DisappearingTimer,
		'1h': DisappearingTimer,
		'1d': DisappearingTimer,
		'1w': DisappearingTimer,
	} satisfies Record<DisappearingChoice, typeof DisappearingTimer>),
});
export type ClientConfig = z.infer<typeof ClientConfig>;
