import type { FastifyInstance } from 'fastify';
import {
	ROUTES,
	RevokeSessionsRequest,
	type RevokeSessionsResponse,
	type SessionListResponse,
} from '../../src/lib/protocol';
import type { HubContext } from '../context';
import { requireSession } from './auth';
import { clearCookieOptions, type CookiePolicy } from './cookies';
import { parseOr400 } from './errors';

/** The signed-in user's devices: list them, sign one or all the others out. */
export function sessionRoutes(app: FastifyInstance, ctx: HubContext, policy: CookiePolicy): void {
	const { devices } = ctx.services;

	app.get(ROUTES.sessions, async (request): Promise<SessionListResponse> => {
		const session = await requireSession(ctx, policy, request);
		return { sessions: await devices.list({ username: session.username, sessionId: session.id }) };
	});

	app.post(ROUTES.revokeSessions, async (request, reply) => {
		const session = await requireSession(ctx, policy, request);
		const body = parseOr400(RevokeSessionsRequest, request.body, 'revoke request');
		const actor = { username: session.username, sessionId: session.id };
		const revoked = await devices.revoke(actor, body, session);
		// Signing this very device out is a logout: its cookie goes too.
		if ('id' in body && body.id === session.id) reply.clearCookie(policy.name, clearCookieOptions(policy));
		const answer: RevokeSessionsResponse = { revoked };
		return reply.send(answer);
	});
}
