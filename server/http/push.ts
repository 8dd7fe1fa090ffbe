import type { FastifyInstance } from 'fastify';
import {
	PushSubscribeRequest,
	ROUTES,
	type PushKeyResponse,
	type PushStateResponse,
} from '../../src/lib/protocol';
import type { HubContext } from '../context';
import { requireSession } from './auth';
import type { CookiePolicy } from './cookies';
import { parseOr400 } from './errors';

/** Web Push: the hub's public key, and this device's subscription (docs/PROTOCOL.md, "Web Push"). */
export function pushRoutes(app: FastifyInstance, ctx: HubContext, policy: CookiePolicy): void {
	const { push } = ctx.services;

	app.get(ROUTES.pushKey, async (request): Promise<PushKeyResponse> => {
		await requireSession(ctx, policy, request);
		return { publicKey: await push.publicKey() };
	});

	app.get(ROUTES.pushSubscription, async (request): Promise<PushStateResponse> => {
		const session = await requireSession(ctx, policy, request);
		return { enabled: await push.enabled({ username: session.username, sessionId: session.id }) };
	});

	app.put(ROUTES.pushSubscription, async (request): Promise<PushStateResponse> => {
		const session = await requireSession(ctx, policy, request);
		const body = parseOr400(PushSubscribeRequest, request.body, 'push subscription');
		await push.subscribe({ username: session.username, sessionId: session.id }, body);
		return { enabled: true };
	});

	app.delete(ROUTES.pushSubscription, async (request): Promise<PushStateResponse> => {
		const session = await requireSession(ctx, policy, request);
		await push.unsubscribe({ username: session.username, sessionId: session.id });
		return { enabled: false };
	});
}
