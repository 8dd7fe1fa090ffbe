import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { ready } from '../src/lib/crypto';
import { joinCluster, SYNC_HINT_SPREAD_MS, type ClusterLink } from './cluster';
import { isHttps, type HubConfig } from './config';
import type { HubContext, HubServices } from './context';
import { authRoutes } from './http/auth';
import { cookiePolicy } from './http/cookies';
import { installErrorHandler } from './http/errors';
import {
	contentSecurityPolicy,
	installOriginGuard,
	installSecurityHeaders,
	securityHeaders,
} from './http/security';
import { sessionRoutes } from './http/sessions';
import { findStaticSite, installStatic, type Shell } from './http/static';
import { systemRoutes } from './http/system';
import { userRoutes } from './http/users';
import { createLogger, type Logger } from './logger';
import { createMetrics } from './metrics';
import { AuthService } from './services/auth';
import { DeviceService } from './services/devices';
import { MaintenanceService } from './services/maintenance';
import { MessageService } from './services/messages';
import { Notifier } from './services/notify';
import { Timelocks } from './services/timelock';
import { attachSocketHandlers, createSocketServer } from './socket';
import type { HubServer } from './socket/types';
import { openStore } from './store';

export type { HubContext, HubServices } from './context';

/** Largest REST body: a registration (keys and the sealed backup) is far below it. */
const REST_BODY_LIMIT = 32 * 1024;
const SWEEP_EVERY_MS = 60_000;

export interface CreateHubOptions {
	config: HubConfig;
	mongoUri: string;
	logger?: Logger;
	/** The hub's clock; tests may pass another. */
	now?: () => number;
}

export interface Hub {
	app: FastifyInstance;
	io: HubServer;
	services: HubServices;
	context: HubContext;
	/** Listens on config.host:config.port (0 = any free port) and resolves with the URL. */
	start(): Promise<{ url: string; port: number }>;
	/** Stops the time-lock scheduler, sockets, HTTP and the database connection. Safe to call twice. */
	stop(): Promise<void>;
}

/**
 * Builds a hub: the built PWA, the REST API and Socket.IO on one port, over one database.
 * Nothing happens at import time; everything this returns is owned by the caller.
 */
export async function createHub(options: CreateHubOptions): Promise<Hub> {
	const { config, mongoUri } = options;
	const logger = options.logger ?? createLogger(config);
	const now = options.now ?? Date.now;
	await ready();
	const store = await openStore(mongoUri, config.dbPoolSize);
	let cluster: ClusterLink | null = null;
	try {
		const app = Fastify({
			loggerInstance: logger.child({ component: 'http' }),
			bodyLimit: REST_BODY_LIMIT,
			trustProxy: config.trustProxy,
			...(config.tls
				? { https: { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) } }
				: {}),
		}) as unknown as FastifyInstance;
		// Known once listening when PUBLIC_ORIGIN is not set: the hub's own URL.
		let allowedOrigin = config.publicOrigin ?? '';
		const https = isHttps(config);
		const policy = cookiePolicy(https);
		const site = findStaticSite(config.staticDir);
		// Recomputed only when the shell changes (a rebuild of the PWA while the hub runs).
		let headersFor: { shell: Shell | null; headers: Record<string, string> } | null = null;
		const headers = () => {
			const shell = site?.shell() ?? null;
			if (headersFor?.shell !== shell) {
				const csp = contentSecurityPolicy(shell?.scriptHashes ?? []);
				headersFor = { shell, headers: securityHeaders({ csp, https }) };
			}
			return headersFor.headers;
		};

		const io = createSocketServer(app.server, { allowedOrigin: () => allowedOrigin, headers });
		const notify = new Notifier(io);
		const auth = new AuthService(store, config, now);
		const devices = new DeviceService(store, auth, notify, now, logger.child({ component: 'devices' }));
		if (config.redisUrl) {
			cluster = await joinCluster(io, config.redisUrl, logger, () => {
				notify.syncHint(SYNC_HINT_SPREAD_MS);
				devices.recheckConnected().catch((error: unknown) => {
					logger.warn({ err: error }, 'connected sessions could not be re-checked');
				});
			});
		}
		const metrics = createMetrics();
		await auth.init();
		if (config.redisUrl) {
			io.on('session:forget', (sessionId, reason, done) => {
				auth.forget(sessionId, reason);
				done(true);
			});
			// Every other hub has marked the session ended before the logout is answered; a hub that does
			// not answer in time (the adapter's request timeout) stops trusting it within the cache's TTL,
			// and ends its sockets when its link is back (DeviceService.recheckConnected).
			auth.onEnded(async (sessionId, reason) => {
				try {
					await io.serverSideEmitWithAck('session:forget', sessionId, reason);
				} catch (error) {
					logger.warn({ err: error }, 'not every hub confirmed forgetting an ended session');
				}
			});
		}
		const hubId = randomUUID();
		const services: HubServices = {
			auth,
			devices,
			messages: new MessageService(store, config, now, notify),
			maintenance: new MaintenanceService(store, config, notify, auth, now, logger),
			timelocks: new Timelocks({
				hubId,
				store,
				notify,
				io,
				clustered: cluster !== null,
				now,
				logger,
				metrics,
			}),
		};
		const context: HubContext = {
			hubId,
			config,
			logger,
			now,
			store,
			io,
			notify,
			metrics,
			services,
		};

		await app.register(fastifyCookie);
		await app.register(fastifyRateLimit, { global: false });
		installErrorHandler(app, logger);
		installSecurityHeaders(app, headers);
		installOriginGuard(app, () => allowedOrigin);
		authRoutes(app, context, policy);
		userRoutes(app, context, policy);
		sessionRoutes(app, context, policy);
		systemRoutes(app, context);
		await installStatic(app, site);
		attachSocketHandlers(context, policy);

		let stopping: Promise<void> | null = null;
		return {
			app,
			io,
			services,
			context,
			async start() {
				await app.listen({ port: config.port, host: config.host });
				const { port } = app.server.address() as AddressInfo;
				const host = config.host.includes(':') ? `[${config.host}]` : config.host;
				const url = `${config.tls ? 'https' : 'http'}://${host}:${port}`;
				allowedOrigin ||= new URL(url).origin;
				services.maintenance.start(SWEEP_EVERY_MS);
				services.devices.start(SWEEP_EVERY_MS);
				await services.timelocks.start();
				logger.info({ url, origin: allowedOrigin, pwa: site ? site.root : null }, 'hub listening');
				return { url, port };
			},
			stop() {
				stopping ??= (async () => {
					try {
						await services.timelocks.stop();
					} catch (error) {
						logger.error({ err: error }, 'time-lock scheduler stop failed');
					}
					services.maintenance.stop();
					services.devices.stop();
					// Disconnects every socket, closes the engine and the HTTP server; Fastify then finishes its own close.
					await io.close();
					await app.close();
					await cluster?.close();
					await store.close();
				})();
				return stopping;
			},
		};
	} catch (error) {
		await cluster?.close();
		await store.close();
		throw error;
	}
}
