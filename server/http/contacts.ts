import type { FastifyInstance } from 'fastify';
import {
	ContactParams,
	ContactSetRequest,
	ROUTES,
	type Contact,
	type ContactListResponse,
	type ContactRemoveResponse,
	type DeclineResponse,
} from '../../src/lib/protocol';
import type { HubContext } from '../context';
import { requireSession } from './auth';
import type { CookiePolicy } from './cookies';
import { parseOr400 } from './errors';

/** The signed-in user's contacts: list, add or accept, block, remove or unblock, decline a request. */
export function contactRoutes(app: FastifyInstance, ctx: HubContext, policy: CookiePolicy): void {
	const { contacts } = ctx.services;

	app.get(ROUTES.contacts, async (request): Promise<ContactListResponse> => {
		const session = await requireSession(ctx, policy, request);
		return { contacts: await contacts.list(session.username) };
	});

	app.put(ROUTES.contactPattern, async (request): Promise<Contact> => {
		const session = await requireSession(ctx, policy, request);
		const { username } = parseOr400(ContactParams, request.params, 'username');
		const body = parseOr400(ContactSetRequest, request.body, 'contact');
		return contacts.set(session.username, username, body.state);
	});

	app.delete(ROUTES.contactPattern, async (request): Promise<ContactRemoveResponse> => {
		const session = await requireSession(ctx, policy, request);
		const { username } = parseOr400(ContactParams, request.params, 'username');
		return { removed: await contacts.remove(session.username, username) };
	});

	app.post(ROUTES.contactDeclinePattern, async (request): Promise<DeclineResponse> => {
		const session = await requireSession(ctx, policy, request);
		const { username } = parseOr400(ContactParams, request.params, 'username');
		return { deleted: await contacts.decline(session.username, username) };
	});
}
