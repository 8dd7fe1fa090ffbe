import type { FastifyInstance } from 'fastify';
import { ROUTES, type HealthResponse, type TimeResponse } from '../../src/lib/protocol';
import type { HubContext } from '../context';

/** Health (for load balancers), the hub clock (for countdowns), and Prometheus metrics. */
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

	app.get('/metrics', async (_request, reply) => {
		const text = await ctx.metrics.registry.metrics();
		return reply.type(ctx.metrics.registry.contentType).send(text);
	});
}
