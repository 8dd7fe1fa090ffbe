import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { ErrorCode } from '../../src/lib/protocol';
import type { CookiePolicy } from '../http/cookies';
import { readSessionToken } from '../http/cookies';
import { HANDSHAKE_MAX_MS, type AuthService } from '../services/auth';
import { isDatabaseUnavailable } from '../store';
import type { HubServer } from './types';

/** Socket.IO's handshake error: clients read `err.data.code`. */
export class HandshakeError extends Error {
	readonly data: { code: ErrorCode; message: string };
	constructor(code: ErrorCode, message: string) {
		super(message);
		this.data = { code, message };
	}
}

/**
 * The engine's allowRequest: a browser page from another origin is refused before any socket
 * exists (CORS alone would not stop a WebSocket). Clients outside a browser send no Origin.
 */
export function originCheck(allowedOrigin: () => string) {
	return (
		req: IncomingMessage,
		callback: (error: string | null | undefined, success: boolean) => void,
	): void => {
		const origin = req.headers.origin;
		if (origin !== undefined && origin !== allowedOrigin()) {
			callback('BAD_ORIGIN', false);
			return;
		}
		if (req.headers['sec-fetch-site'] === 'cross-site') {
			callback('BAD_ORIGIN', false);
			return;
		}
		callback(null, true);
	};
}

/** io.use: a socket exists only for a live session; its identity is set here and nowhere else. */
export function sessionMiddleware(
	io: HubServer,
	auth: AuthService,
	policy: CookiePolicy,
	now: () => number,
	logger: Logger,
): void {
	io.use((socket, next) => {
		const token = readSessionToken(socket.request.headers.cookie, policy);
		const started = performance.now();
		auth
			.authenticate(token)
			.then((session) => {
				if (!session) {
					next(new HandshakeError('UNAUTHENTICATED', 'Sign in first: no live session.'));
					return;
				}
				// What a slower check read may have ended since; the bound keeps logout final (AuthService.endedReason).
				if (performance.now() - started > HANDSHAKE_MAX_MS) {
					next(
						new HandshakeError('UNAVAILABLE', 'The hub is too slow to check sessions; try again shortly.'),
					);
					return;
				}
				socket.data.username = session.username;
				socket.data.sessionId = session.id;
				socket.data.checkedAt = now();
				socket.data.lastSeenAt = session.lastSeenAt;
				next();
			})
			.catch((error: unknown) => {
				if (isDatabaseUnavailable(error)) {
					next(new HandshakeError('UNAVAILABLE', 'The hub cannot reach its database; try again shortly.'));
					return;
				}
				logger.error({ err: error }, 'socket handshake failed');
				next(new HandshakeError('INTERNAL', 'Something went wrong on the hub.'));
			});
	});
}
