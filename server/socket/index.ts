import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { Server } from 'socket.io';
import { EVENTS, LIMITS } from '../../src/lib/protocol';
import type { HubContext } from '../context';
import type { CookiePolicy } from '../http/cookies';
import { rooms } from '../services/notify';
import { originCheck, sessionMiddleware } from './auth';
import type { BindDeps } from './handler';
import { bindMessageEvents } from './messages';
import { bindTakebackEvents } from './takeback';
import { bindTimelockEvents } from './timelock';
import type { HubServer, HubSocket } from './types';

export interface SocketServerOptions {
	allowedOrigin: () => string;
	/** Added to the engine's HTTP responses (polling and the upgrade), like every other response. */
	headers: () => Record<string, string>;
}

/** The Socket.IO server on the hub's HTTP server; no handlers yet (see attachSocketHandlers). */
export function createSocketServer(
	server: HttpServer | HttpsServer,
	options: SocketServerOptions,
): HubServer {
	const io: HubServer = new Server(server, {
		maxHttpBufferSize: LIMITS.socketFrameMaxBytes,
		allowRequest: originCheck(options.allowedOrigin),
		serveClient: false,
	});
	io.engine.on('headers', (headers: Record<string, string>) => {
		Object.assign(headers, options.headers());
	});
	return io;
}

/** Session check on the handshake, rooms, and every client event of the protocol. */
export function attachSocketHandlers(ctx: HubContext, policy: CookiePolicy): void {
	const { io } = ctx;
	const deps: BindDeps = {
		logger: ctx.logger,
		metrics: ctx.metrics,
		auth: ctx.services.auth,
		notify: ctx.notify,
		now: ctx.now,
	};
	sessionMiddleware(io, ctx.services.auth, policy, ctx.now, ctx.logger);
	ctx.metrics.setSocketCounter(() => io.of('/').sockets.size);
	io.on('connection', (socket: HubSocket) => {
		const joined = socket.join([rooms.user(socket.data.username), rooms.session(socket.data.sessionId)]);
		bindMessageEvents(ctx, deps, socket);
		bindTimelockEvents(ctx, deps, socket);
		bindTakebackEvents(ctx, deps, socket);
		socket.on('error', (error) =>
			ctx.logger.debug({ err: error, user: socket.data.username }, 'socket error'),
		);
		void admit(ctx, socket, joined);
	});
}

/**
 * Once the socket is in its session's room, ends it if its session ended while the handshake ran:
 * together with logout marking the session ended before it disconnects the room, no socket of an
 * ended session survives, whatever the timing (AuthService.endedReason says why).
 */
async function admit(ctx: HubContext, socket: HubSocket, joined: Promise<void> | void): Promise<void> {
	await joined;
	const { sessionId } = socket.data;
	const reason = ctx.services.auth.endedReason(sessionId);
	if (reason) {
		socket.emit(EVENTS.sessionEnded, { reason });
		socket.disconnect(true);
		return;
	}
	ctx.services.devices.connected(sessionId, socket.data.lastSeenAt);
}
