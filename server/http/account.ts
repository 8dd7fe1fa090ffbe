import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AccountDeleteRequest, ROUTES } from '../../src/lib/protocol';
import type { HubContext } from '../context';
import { attemptOf, requireSession } from './auth';
import { clearCookieOptions, type CookiePolicy } from './cookies';
import { parseOr400 } from './errors';

/**
 * The signed-in account itself. Deletion checks the password, and a code when two-factor
 * authentication is on, through the sign-in throttle: a stolen session cannot guess either unchecked.
 */
export function accountRoutes(app: FastifyInstance, ctx: HubContext, policy: CookiePolicy): void {
	const { account, throttle } = ctx.services;
	const perIp = {
		onRequest: async (request: FastifyRequest) => throttle.spendAuthRequest(request.ip),
	};

	app.post(ROUTES.accountDelete, perIp, async (request, reply) => {
		const session = await requireSession(ctx, policy, request);
		const body = parseOr400(AccountDeleteRequest, request.body, 'account deletion');
		const admitted = await throttle.login(attemptOf(request, policy, session.username), () =>
			account.delete(session, body),
		);
		// The sessions are gone from the database and marked ended on every hub: now their sockets go.
		for (const id of admitted.result) ctx.notify.endSession(id, 'account-deleted');
		reply.clearCookie(policy.name, clearCookieOptions(policy));
		return reply.code(204).send();
	});
}
