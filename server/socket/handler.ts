import type { Logger } from 'pino';
import type { z } from 'zod';
import { CLIENT_EVENT_SCHEMAS, ProtocolError, type Ack, type ErrorBody } from '../../src/lib/protocol';
import type { HubMetrics } from '../metrics';
import type { AuthService } from '../services/auth';
import type { Notifier } from '../services/notify';
import { isDatabaseUnavailable } from '../store';
import type { ClientEvent, EventHandler, HubSocket } from './types';

/**
 * A socket's session is re-checked at most this often (expiry; a revocation also ends the
 * socket at once through notify.endSession). The check is a read, from the hub's session cache
 * when it is fresh; the touch that slides the expiry runs after the ack, so no message waits for
 * a session write or fails with it.
 */
const SESSION_RECHECK_MS = 30_000;

export interface BindDeps {
	logger: Logger;
	metrics: HubMetrics;
	auth: AuthService;
	notify: Notifier;
	now: () => number;
}

/**
 * Wires one client event to its handler, the same way for every event: parse with the shared
 * schema, confirm the session, run the handler, always ack with the typed reply, then run what
 * the handler asked to do after the ack. Nothing a client sends can throw out of here.
 */
export function bindEvent<E extends ClientEvent>(
	deps: BindDeps,
	socket: HubSocket,
	event: E,
	handler: EventHandler<E>,
): void {
	// socket.io types the listener by the event map; the hub must not trust that shape, so it takes unknowns.
	const untyped = socket as unknown as { on(event: string, listener: (...args: unknown[]) => void): void };
	untyped.on(event, (...args: unknown[]) => {
		void dispatch(deps, socket, event, handler, args);
	});
}

async function dispatch<E extends ClientEvent>(
	deps: BindDeps,
	socket: HubSocket,
	event: E,
	handler: EventHandler<E>,
	args: unknown[],
): Promise<void> {
	const ack = args.at(-1);
	if (typeof ack !== 'function') {
		// Without an ack nobody could learn the outcome: the protocol requires one, so nothing is done.
		deps.logger.debug({ event, user: socket.data.username }, 'event without ack ignored');
		return;
	}
	const started = performance.now();
	const afterAck: (() => void | Promise<void>)[] = [];
	let reply: Ack<unknown>;
	try {
		if (args.length !== 2) throw new ProtocolError('BAD_REQUEST', `${event} takes one payload and an ack.`);
		const payload = parse(event, args[0]);
		await confirmSession(deps, socket, afterAck);
		const data = await handler(payload, {
			actor: { username: socket.data.username, sessionId: socket.data.sessionId },
			socket,
			afterAck: (fn) => afterAck.push(fn),
		});
		reply = { ok: true, data };
	} catch (error) {
		reply = { ok: false, error: errorBody(deps.logger, event, socket, error) };
	}
	try {
		(ack as (reply: Ack<unknown>) => void)(reply);
	} catch (error) {
		deps.logger.warn({ err: error, event }, 'ack callback threw');
	}
	deps.metrics.ackLatency.observe(
		{ event, outcome: reply.ok ? 'ok' : reply.error.code },
		(performance.now() - started) / 1000,
	);
	for (const fn of afterAck) {
		try {
			await fn();
		} catch (error) {
			deps.logger.error({ err: error, event }, 'after-ack step failed');
		}
	}
}

function parse<E extends ClientEvent>(
	event: E,
	payload: unknown,
): z.output<(typeof CLIENT_EVENT_SCHEMAS)[E]> {
	const schema: z.ZodType = CLIENT_EVENT_SCHEMAS[event];
	const parsed = schema.safeParse(payload);
	if (parsed.success) return parsed.data as z.output<(typeof CLIENT_EVENT_SCHEMAS)[E]>;
	const issues = parsed.error.issues;
	const tooLarge = issues.some((i) => i.path[0] === 'ciphertext' && i.code === 'too_big');
	const summary = issues
		.slice(0, 3)
		.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`)
		.join('; ');
	if (tooLarge) throw new ProtocolError('PAYLOAD_TOO_LARGE', `The ciphertext is too large (${summary}).`);
	throw new ProtocolError('BAD_REQUEST', `Invalid ${event} payload: ${summary}.`);
}

/** Ends a socket whose session was revoked or went idle since it connected. */
async function confirmSession(
	deps: BindDeps,
	socket: HubSocket,
	afterAck: (() => void | Promise<void>)[],
): Promise<void> {
	const now = deps.now();
	if (now - socket.data.checkedAt < SESSION_RECHECK_MS) return;
	const session = await deps.auth.check(socket.data.sessionId);
	if (!session) {
		afterAck.push(() => deps.notify.endSession(socket.data.sessionId, 'expired'));
		throw new ProtocolError('UNAUTHENTICATED', 'The session has ended; sign in again.');
	}
	socket.data.checkedAt = now;
	afterAck.push(async () => void (await deps.auth.touch(session)));
}

function errorBody(logger: Logger, event: string, socket: HubSocket, error: unknown): ErrorBody {
	if (error instanceof ProtocolError) return { code: error.code, message: error.message };
	if (isDatabaseUnavailable(error)) {
		logger.warn({ event, user: socket.data.username, err: error }, 'database unavailable');
		return { code: 'UNAVAILABLE', message: 'The hub cannot reach its database; try again shortly.' };
	}
	// Logged without the payload: it may hold ciphertext.
	logger.error({ event, user: socket.data.username, err: error }, 'socket handler failed');
	return { code: 'INTERNAL', message: 'Something went wrong on the hub.' };
}
