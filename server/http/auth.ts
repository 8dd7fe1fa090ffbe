import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
	LoginRequest,
	LoginTotpRequest,
	PasswordChangeRequest,
	PreloginRequest,
	ProtocolError,
	RegisterRequest,
	ROUTES,
} from '../../src/lib/protocol';
import type { HubContext } from '../context';
import type { NewSession } from '../services/auth';
import type { Admitted, Attempt } from '../services/throttle';
import type { SessionRecord } from '../store';
import { clearCookieOptions, deviceCookieOptions, sessionCookieOptions, type CookiePolicy } from './cookies';
import { parseOr400 } from './errors';

/** The session of a REST request, from its cookie; null when none is live. */
export function sessionOf(
	ctx: HubContext,
	policy: CookiePolicy,
	request: FastifyRequest,
): Promise<SessionRecord | null> {
	return ctx.services.auth.authenticate(request.cookies[policy.name]);
}

export async function requireSession(
	ctx: HubContext,
	policy: CookiePolicy,
	request: FastifyRequest,
): Promise<SessionRecord> {
	const session = await sessionOf(ctx, policy, request);
	if (!session) throw new ProtocolError('UNAUTHENTICATED', 'Sign in first.');
	return session;
}

/** A request that proves a password or a code, as the sign-in throttle sees it. */
export function attemptOf(request: FastifyRequest, policy: CookiePolicy, username: string): Attempt {
	return {
		username,
		ip: request.ip,
		deviceCookie: request.cookies[policy.deviceName],
		userAgent: String(request.headers['user-agent'] ?? ''),
	};
}

/**
 * prelogin, register, login (and its second step with two-factor authentication), logout, session,
 * password change. Every POST spends the address's request budget;
 * registration and sign-in go through the throttle (server/services/throttle), which decides who
 * waits and hands out the device cookie that keeps an account's own devices signing in.
 */
export function authRoutes(app: FastifyInstance, ctx: HubContext, policy: CookiePolicy): void {
	const { auth, throttle } = ctx.services;
	const perIp = {
		onRequest: async (request: FastifyRequest) => throttle.spendAuthRequest(request.ip),
	};
	const client = (request: FastifyRequest) => ({
		userAgent: String(request.headers['user-agent'] ?? ''),
		ip: request.ip,
	});
	const attempt = (request: FastifyRequest, username: string) => attemptOf(request, policy, username);
	const signedIn = (reply: FastifyReply, admitted: Admitted<NewSession>) => {
		const { session, token } = admitted.result;
		reply.setCookie(policy.name, token, sessionCookieOptions(policy, session, ctx.now()));
		reply.setCookie(
			policy.deviceName,
			admitted.deviceCookie,
			deviceCookieOptions(policy, ctx.config.throttle.deviceTokenDays),
		);
		return admitted.result.reply;
	};

	app.post(ROUTES.prelogin, perIp, async (request) => {
		const body = parseOr400(PreloginRequest, request.body, 'prelogin request');
		return auth.prelogin(body.username);
	});

	app.post(ROUTES.register, perIp, async (request, reply) => {
		const body = parseOr400(RegisterRequest, request.body, 'registration');
		const admitted = await throttle.register(attempt(request, body.username), () =>
			auth.register(body, client(request)),
		);
		return reply.code(201).send(signedIn(reply, admitted));
	});

	app.post(ROUTES.login, perIp, async (request, reply) => {
		const body = parseOr400(LoginRequest, request.body, 'login');
		const admitted = await throttle.login(attempt(request, body.username), (facts) =>
			auth.login(body, client(request), facts),
		);
		return reply.send(signedIn(reply, admitted));
	});

	app.post(ROUTES.loginTotp, perIp, async (request, reply) => {
		const body = parseOr400(LoginTotpRequest, request.body, 'second sign-in step');
		const { username } = ctx.services.twoFactor.readTicket(body.ticket);
		const admitted = await throttle.login(attempt(request, username), (facts) =>
			auth.completeSignIn(body, client(request), facts),
		);
		return reply.send(signedIn(reply, admitted));
	});

	app.post(ROUTES.logout, perIp, async (request, reply) => {
		const ended = await auth.logout(request.cookies[policy.name]);
		// The session is gone from the database first, so no socket can re-check it back to life.
		if (ended) ctx.notify.endSession(ended.id, 'logout');
		// The device cookie stays: this device did sign in, and may again while strangers are locked out.
		reply.clearCookie(policy.name, clearCookieOptions(policy));
		return reply.code(204).send();
	});

	// A wrong current password is counted as a failed sign-in of the account, so it cannot be guessed here instead.
	app.post(ROUTES.password, perIp, async (request, reply) => {
		const session = await requireSession(ctx, policy, request);
		const body = parseOr400(PasswordChangeRequest, request.body, 'password change');
		const admitted = await throttle.login(attempt(request, session.username), () =>
			auth.changePassword(session, body),
		);
		for (const id of admitted.result.revoked) ctx.notify.endSession(id, 'password-changed');
		reply.setCookie(
			policy.deviceName,
			admitted.deviceCookie,
			deviceCookieOptions(policy, ctx.config.throttle.deviceTokenDays),
		);
		return reply.send(admitted.result.reply);
	});

	app.get(ROUTES.session, async (request) => {
		const session = await requireSession(ctx, policy, request);
		return auth.sessionView(session);
	});
}
