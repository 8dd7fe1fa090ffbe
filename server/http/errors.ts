import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { HTTP_STATUS, ProtocolError, type ErrorBody, type ErrorCode } from '../../src/lib/protocol';
import { isDatabaseUnavailable } from '../store';

export function sendError(
	reply: FastifyReply,
	code: ErrorCode,
	message: string,
	retryAfter?: number,
): FastifyReply {
	const body: { error: ErrorBody } = { error: { code, message, ...(retryAfter ? { retryAfter } : {}) } };
	if (retryAfter) reply.header('retry-after', String(retryAfter));
	return reply.code(HTTP_STATUS[code]).type('application/json; charset=utf-8').send(body);
}

/** Parses a request part with a shared schema; a failure is a BAD_REQUEST naming the fields, not their values. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
	const parsed = schema.safeParse(value);
	if (parsed.success) return parsed.data;
	const summary = parsed.error.issues
		.slice(0, 3)
		.map((i) => `${i.path.join('.') || what}: ${i.message}`)
		.join('; ');
	throw new ProtocolError('BAD_REQUEST', `Invalid ${what}: ${summary}.`);
}

/**
 * Every error reply is `{ error: { code, message } }` with the code's HTTP status. A 5xx never
 * carries internals: the details go to the log, the client gets a generic sentence.
 */
export function installErrorHandler(app: FastifyInstance, logger: Logger): void {
	app.setErrorHandler((error: FastifyError | ProtocolError | Error, request, reply) => {
		if (error instanceof ProtocolError) return sendError(reply, error.code, error.message, error.retryAfter);
		if (isDatabaseUnavailable(error)) {
			logger.warn({ err: error, url: request.url }, 'database unavailable');
			return sendError(reply, 'UNAVAILABLE', 'The hub cannot reach its database; try again shortly.');
		}
		const status = (error as FastifyError).statusCode ?? 500;
		if (status === 413) return sendError(reply, 'PAYLOAD_TOO_LARGE', 'The request body is too large.');
		if (status >= 400 && status < 500) {
			return sendError(reply, 'BAD_REQUEST', status === 415 ? 'Send JSON.' : 'The request is malformed.');
		}
		logger.error({ err: error, method: request.method, url: request.url }, 'request failed');
		return sendError(reply, 'INTERNAL', 'Something went wrong on the hub.');
	});
}
