import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
	ROUTES,
	TotpDisableRequest,
	TotpEnableRequest,
	TotpSetupRequest,
	type TotpStatus,
} from '../../src/lib/protocol';
import type { HubContext } from '../context';
import { attemptOf, requireSession } from './auth';
import type { CookiePolicy } from './cookies';
import { parseOr400 } from './errors';

/**
 * Two-factor authentication of the signed-in account. Setup and disable check the password, and
 * disable a code, through the sign-in throttle: a stolen session cannot guess either unchecked.
 */
export function twoFactorRoutes(app: FastifyInstance, ctx: HubContext, policy: CookiePolicy): void {
	const { auth, throttle, twoFactor } = ctx.services;
	const perIp = {
		onRequest: async (request: FastifyRequest) => throttle.spendAuthRequest(request.ip),
	};
	const guarded = <T>(request: FastifyRequest, username: string, run: () => Promise<T>) =>
		throttle.login(attemptOf(request, policy, username), run);

	app.get(ROUTES.totp, async (request): Promise<TotpStatus> => {
		const session = await requireSession(ctx, policy, request);
		return twoFactor.status(session.username);
	});

	app.post(ROUTES.totpSetup, perIp, async (request) => {
		const session = await requireSession(ctx, policy, request);
		const body = parseOr400(TotpSetupRequest, request.body, 'two-factor setup');
		const admitted = await guarded(request, session.username, async () => {
			await auth.verifyPassword(session.username, body.authKey);
			return twoFactor.setup(session.username);
		});
		return admitted.result;
	});

	app.post(ROUTES.totpEnable, perIp, async (request) => {
		const session = await requireSession(ctx, policy, request);
		const body = parseOr400(TotpEnableRequest, request.body, 'two-factor confirmation');
		return twoFactor.enable(session.username, body.code, session);
	});

	app.post(ROUTES.totpDisable, perIp, async (request, reply) => {
		const session = await requireSession(ctx, policy, request);
		const body = parseOr400(TotpDisableRequest, request.body, 'two-factor disable');
		await guarded(request, session.username, async () => {
			await auth.verifyPassword(session.username, body.authKey);
			await twoFactor.disable(session.username, body.code, session);
		});
		return reply.code(204).send();
	});
}
