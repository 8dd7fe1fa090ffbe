/** Error codes returned by REST replies and socket acks. Clients switch on the code, never on the message. */
export const ERROR_CODES = [
	'BAD_REQUEST',
	'PAYLOAD_TOO_LARGE',
	'UNAUTHENTICATED',
	'INVALID_CREDENTIALS',
	'TOTP_REQUIRED',
	'INVALID_TOTP',
	'TOTP_ALREADY_ENABLED',
	'TOTP_NOT_ENABLED',
	'FORBIDDEN',
	'BAD_ORIGIN',
	'NOT_FOUND',
	'USERNAME_TAKEN',
	'UNKNOWN_RECIPIENT',
	'SENDER_MISMATCH',
	'BAD_SIGNATURE',
	'ID_CONFLICT',
	'UNLOCK_IN_PAST',
	'UNLOCK_TOO_FAR',
	'NOT_CANCELLABLE',
	'ALREADY_RELEASED',
	'DELETE_WINDOW_PASSED',
	'RATE_LIMITED',
	'LOCKED_OUT',
	'QUOTA_UNDELIVERED',
	'QUOTA_STORAGE',
	'REQUEST_LIMIT',
	'FILE_INCOMPLETE',
	'UNAVAILABLE',
	'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
	code: ErrorCode;
	message: string;
	/** Seconds to wait before trying again (`RATE_LIMITED`, `LOCKED_OUT`); also sent as `Retry-After`. */
	retryAfter?: number;
	/**
	 * With `TOTP_REQUIRED`: the sign-in ticket that proves the password was right, to send with the
	 * code to the second step (ROUTES.loginTotp) within a few minutes.
	 */
	ticket?: string;
}

/** HTTP status for each code, used by the REST layer. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
	BAD_REQUEST: 400,
	PAYLOAD_TOO_LARGE: 413,
	UNAUTHENTICATED: 401,
	INVALID_CREDENTIALS: 401,
	TOTP_REQUIRED: 401,
	INVALID_TOTP: 401,
	TOTP_ALREADY_ENABLED: 409,
	TOTP_NOT_ENABLED: 409,
	FORBIDDEN: 403,
	BAD_ORIGIN: 403,
	NOT_FOUND: 404,
	USERNAME_TAKEN: 409,
	UNKNOWN_RECIPIENT: 404,
	SENDER_MISMATCH: 403,
	BAD_SIGNATURE: 400,
	ID_CONFLICT: 409,
	UNLOCK_IN_PAST: 400,
	UNLOCK_TOO_FAR: 400,
	NOT_CANCELLABLE: 409,
	ALREADY_RELEASED: 409,
	DELETE_WINDOW_PASSED: 409,
	RATE_LIMITED: 429,
	LOCKED_OUT: 429,
	QUOTA_UNDELIVERED: 429,
	QUOTA_STORAGE: 403,
	REQUEST_LIMIT: 429,
	FILE_INCOMPLETE: 409,
	UNAVAILABLE: 503,
	INTERNAL: 500,
};

/** The reply every socket handler gives through its ack callback. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

export class ProtocolError extends Error {
	/** Seconds to wait before trying again, when the refusal is about time. */
	readonly retryAfter: number | undefined;
	/** The sign-in ticket of a `TOTP_REQUIRED` refusal. */
	readonly ticket: string | undefined;

	constructor(
		readonly code: ErrorCode,
		message: string,
		options: { retryAfter?: number; ticket?: string } = {},
	) {
		super(message);
		this.name = 'ProtocolError';
		this.retryAfter = options.retryAfter;
		this.ticket = options.ticket;
	}
}
