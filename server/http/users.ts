import type { FastifyInstance } from 'fastify';
import { ROUTES, UserKeysParams } from '../../src/lib/protocol';
import type { HubContext } from '../context';
import { requireSession } from './auth';
import type { CookiePolicy } from './cookies';
import { parseOr400 } from './errors';

/** Public keys of a user, for a signed-in client to pin (anonymous visitors cannot list who exists). */
export function userRoutes(app: FastifyInstance, ctx: HubContext, policy: CookiePolicy): void {
	app.get(ROUTES.userKeysPattern, async (request) => {
		await requireSession(ctx, policy, request);
		const params = parseOr400(UserKeysParams, request.params, 'username');
		return ctx.services.auth.userKeys(params.username);
	});
}
