import type { FastifyInstance } from 'fastify';

/**
 * One line per request, after its reply, instead of Fastify's two ("incoming request" and
 * "request completed", each spread over several lines when pretty-printed): a minute of one PWA's
 * use was 1,370 lines at `info`. Server errors are logged at `error`; everything else at `debug`,
 * so `LOG_LEVEL=debug` gives an access log and `info` keeps to what an operator acts on.
 */
export function installAccessLog(app: FastifyInstance): void {
	app.addHook('onResponse', async (request, reply) => {
		const line = {
			method: request.method,
			url: request.url,
			status: reply.statusCode,
			ms: Math.round(reply.elapsedTime * 10) / 10,
		};
		if (reply.statusCode >= 500) request.log.error(line, 'request failed');
		else request.log.debug(line, 'request');
	});
}
