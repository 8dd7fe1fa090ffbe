import type { FastifyInstance } from 'fastify';
import { ActivityQuery, ROUTES, type ActivityResponse } from '../../src/lib/protocol';
import type { HubContext } from '../context';
import { requireSession } from './auth';
import type { CookiePolicy } from './cookies';
import { parseOr400 } from './errors';

/** The signed-in user's activity log, a page at a time. */
export function activityRoutes(app: FastifyInstance, ctx: HubContext, policy: CookiePolicy): void {
	app.get(ROUTES.activity, async (request): Promise<ActivityResponse> => {
		const session = await requireSession(ctx, policy, request);
		const query = parseOr400(ActivityQuery, request.query, 'activity query');
		return ctx.services.activity.list(session.username, query);
	});
}
