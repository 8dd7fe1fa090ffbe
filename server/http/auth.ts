import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
	LoginRequest,
	PreloginRequest,
	ProtocolError,
	RegisterRequest,
	ROUTES,
} from '../../src/lib/protocol';
import type { HubContext } from '../context';
import type { SessionRecord } from '../store';
import { clearCookieOptions, sessionCookieOptions, type CookiePolicy } from './cookies';
import { parseOr400 } from './errors';

const MINUTE = 60_000;

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

/** prelogin, register, login, logout, session. Rate-limited per IP, and login per username too. */
export function authRoutes(app: FastifyInstance, ctx: HubContext, policy: CookiePolicy): void {
	const { auth } = ctx.services;
	// One budget per IP shared by every auth route (a route-level config would count each route apart).
	const authPerIp = app.createRateLimit({ max: ctx.config.authRatePerIpPerMinute, timeWindow: MINUTE });
	const perIp = {
		onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
			const limit = await authPerIp(request);
			if (!limit.isAllowed && limit.isExceeded) {
				reply.header('retry-after', String(limit.ttlInSeconds));
				throw new ProtocolError('RATE_LIMITED', 'Too many requests from this address; wait a minute.');
			}
		},
	};
	// Failed logins per username: the canonical name is known only once the body is parsed.
	const loginName = new WeakMap<FastifyRequest, string>();
	const failedLogins = app.createRateLimit({
		max: ctx.config.authRatePerUserPerMinute,
		timeWindow: MINUTE,
		keyGenerator: (request) => `login:${loginName.get(request) ?? ''}`,
	});
	const client = (request: FastifyRequest) => ({
		userAgent: String(request.headers['user-agent'] ?? ''),
		ip: request.ip,
	});

	app.post(ROUTES.prelogin, perIp, async (request) => {
		const body = parseOr400(PreloginRequest, request.body, 'prelogin request');
		return auth.prelogin(body.username);
	});

	app.post(ROUTES.register, perIp, async (request, reply) => {
		const body = parseOr400(RegisterRequest, request.body, 'registration');
		const opened = await auth.register(body, client(request));
		reply.setCookie(policy.name, opened.token, sessionCookieOptions(policy, opened.session, ctx.now()));
		return reply.code(201).send(opened.reply);
	});

	app.post(ROUTES.login, perIp, async (request, reply) => {
		const body = parseOr400(LoginRequest, request.body, 'login');
		loginName.set(request, body.username);
		// Only failures count, so guessing at an account cannot lock its owner out after one success.
		const status = await failedLogins(request, { increment: false });
		// A peek does not count this request, so the budget is spent once nothing remains.
		if (!status.isAllowed && status.remaining <= 0) {
			throw new ProtocolError('RATE_LIMITED', 'Too many failed sign-ins for this account; wait a minute.');
		}
		let opened;
		try {
			opened = await auth.login(body, client(request));
		} catch (error) {
			if (error instanceof ProtocolError && error.code === 'INVALID_CREDENTIALS') await failedLogins(request);
			throw error;
		}
		reply.setCookie(policy.name, opened.token, sessionCookieOptions(policy, opened.session, ctx.now()));
		return reply.send(opened.reply);
	});

	app.post(ROUTES.logout, perIp, async (request, reply) => {
		const ended = await auth.logout(request.cookies[policy.name]);
		// The session is gone from the database first, so no socket can re-check it back to life.
		if (ended) ctx.notify.endSession(ended.id, 'logout');
		reply.clearCookie(policy.name, clearCookieOptions(policy));
		return reply.code(204).send();
	});

	app.get(ROUTES.session, async (request) => {
		const session = await requireSession(ctx, policy, request);
		return auth.sessionView(session);
	});
}
