import type { ErrorCode } from '../protocol/errors';
import type { PinnedKeys } from './messenger';

// The SDK's errors in a module of their own, with nothing but types imported: a page that only
// shows them (the sign-in form) does not load the SDK, its schemas and Socket.IO to test for them.

/** A refusal from the hub (or the network), with the protocol's error code. */
export class ApiError extends Error {
	constructor(
		readonly code: ErrorCode,
		message: string,
		readonly status: number,
		/** Seconds the hub asks to wait before trying again (`RATE_LIMITED`, `LOCKED_OUT`), when it says. */
		readonly retryAfter: number | null = null,
		/** With `TOTP_REQUIRED`: the ticket for the second sign-in step. */
		readonly ticket: string | null = null,
	) {
		super(message);
		this.name = 'ApiError';
	}
}

/**
 * The hub checked the password and wants the second factor: `complete(code)` finishes the same
 * sign-in with a TOTP or recovery code, without sending the password again. A wrong code leaves it
 * usable for another try until its ticket expires (then `UNAUTHENTICATED`: start again).
 */
export class SecondFactorRequired<T> extends ApiError {
	constructor(
		message: string,
		ticket: string,
		private readonly finish: (code: string) => Promise<T>,
	) {
		super('TOTP_REQUIRED', message, 401, null, ticket);
		this.name = 'SecondFactorRequired';
	}

	complete(code: string): Promise<T> {
		return this.finish(code);
	}

	/** The same pending sign-in, with more done once it completes. */
	andThen<U>(next: (value: T) => Promise<U>): SecondFactorRequired<U> {
		return new SecondFactorRequired(this.message, this.ticket ?? '', async (code) =>
			next(await this.finish(code)),
		);
	}
}

/** The hub now publishes other keys for a peer than the ones pinned here: sending stops until the user accepts. */
export class KeyChangedError extends Error {
	constructor(
		readonly username: string,
		readonly pinned: PinnedKeys,
		readonly current: { signPk: string; boxPk: string },
	) {
		super(`The keys of ${username} have changed since they were pinned.`);
		this.name = 'KeyChangedError';
	}
}

/** A contact card's fingerprint does not match the keys the hub publishes for its user: nothing was added. */
export class FingerprintMismatchError extends Error {
	constructor(readonly username: string) {
		super(
			`The keys the hub gives for ${username} do not match the fingerprint on the card: ` +
				'it may be altered or out of date, or someone is in the middle. Nothing was added.',
		);
		this.name = 'FingerprintMismatchError';
	}
}
