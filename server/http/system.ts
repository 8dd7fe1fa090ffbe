import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
	ProtocolError,
	ROUTES,
	type ClientConfig,
	type HealthResponse,
	type TimeResponse,
} from '../../src/lib/protocol';
import type { HubContext } from '../context';

/** Health (for load balancers), the hub clock (for countdowns), the settings clients follow, and metrics when METRICS_TOKEN is set. */
export function systemRoutes(app: FastifyInstance, ctx: HubContext): void {
	app.get(ROUTES.health, async (_request, reply) => {
		const up = await ctx.store.ping();
		const body: HealthResponse = {
			status: up ? 'ok' : 'degraded',
			db: up ? 'up' : 'down',
			serverNow: ctx.now(),
		};
		return reply.code(up ? 200 : 503).send(body);
	});

	app.get(ROUTES.time, async (): Promise<TimeResponse> => ({ serverNow: ctx.now() }));

	app.get(ROUTES.clientConfig, async (): Promise<ClientConfig> => ({
		deleteWindowMs: ctx.config.deleteWindowMs,
		disappearingTimers: ctx.config.disappearingTimers,
	}));

	// Without a token the app port serves no metrics at all (METRICS_PORT may, on an address of its own).
	if (ctx.config.metrics.token !== null) metricsRoutes(app, ctx);
}

/**
 * Prometheus text at /metrics, to a bearer of METRICS_TOKEN when one is set: on the app port (where
 * a token is required) and on the metrics listener (METRICS_HOST:METRICS_PORT, private by address).
 */
export function metricsRoutes(app: FastifyInstance, ctx: HubContext): void {
	const token = ctx.config.metrics.token;
	const expected = token === null ? null : digest(token);
	const authorize = async (request: FastifyRequest, reply: FastifyReply) => {
		if (expected === null) return;
		const given = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
		if (given !== undefined && timingSafeEqual(digest(given), expected)) return;
		reply.header('www-authenticate', 'Bearer realm="hourglass-metrics"');
		throw new ProtocolError(
			'UNAUTHENTICATED',
			'Metrics need the operator token: Authorization: Bearer <METRICS_TOKEN>.',
		);
	};
	app.get(ROUTES.metrics, { onRequest: authorize }, async (_request, reply) => {
		const text = await ctx.metrics.registry.metrics();
		return reply.header('cache-control', 'no-store').type(ctx.metrics.registry.contentType).send(text);
	});
}

/** Equal-length inputs for timingSafeEqual, whatever the token's length. */
function digest(text: string): Buffer {
	return createHash('sha256').update(text).digest();
}
