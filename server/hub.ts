import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { ready } from '../src/lib/crypto';
import { ROUTES } from '../src/lib/protocol';
import { joinCluster, SYNC_HINT_SPREAD_MS, type ClusterLink } from './cluster';
import { isHttps, type HubConfig } from './config';
import type { HubContext, HubServices } from './context';
import { installAccessLog } from './http/access-log';
import { authRoutes } from './http/auth';
import { cookiePolicy } from './http/cookies';
import { installErrorHandler } from './http/errors';
import {
	contentSecurityPolicy,
	installOriginGuard,
	installSecurityHeaders,
	securityHeaders,
} from './http/security';
import { pushRoutes } from './http/push';
import { sessionRoutes } from './http/sessions';
import { activityRoutes } from './http/activity';
import { fileRoutes } from './http/files';
import { findStaticSite, installStatic, type Shell } from './http/static';
import { metricsRoutes, systemRoutes } from './http/system';
import { twoFactorRoutes } from './http/two-factor';
import { accountRoutes } from './http/account';
import { contactRoutes } from './http/contacts';
import { userRoutes } from './http/users';
import { createLogger, type Logger } from './logger';
import { createMetrics } from './metrics';
import { AccountService } from './services/account';
import { ActivityService } from './services/activity';
import { AuthService } from './services/auth';
import { ContactService } from './services/contacts';
import { DeviceService } from './services/devices';
import { MaintenanceService } from './services/maintenance';
import { FileService } from './services/files';
import { MessageService } from './services/messages';
import { TakebackService } from './services/takeback';
import { QuotaService } from './services/quota';
import { Notifier, rooms } from './services/notify';
import { PushService } from './services/push';
import { SignInThrottle, redisCounters } from './services/throttle';
import { Timelocks } from './services/timelock';
import { TwoFactorService } from './services/two-factor';
import { attachSocketHandlers, createSocketServer } from './socket';
import type { HubServer } from './socket/types';
import { openStore, type Store } from './store';
import { HubReadCaches } from './services/read-cache';
import { RecentEnvelopes } from './services/recent-envelopes';

export type { HubContext, HubServices } from './context';

/** Largest REST body: a registration (keys and the sealed backup) is far below it. */
const REST_BODY_LIMIT = 32 * 1024;
const SWEEP_EVERY_MS = 60_000;
/**
 * How long a stop lets requests in flight finish before it cuts their connections: a REST call
 * answers well within it, while a file streamed to a slow device could hold a stop (a deploy) for
 * hours. The clients pick a cut transfer up again at the next chunk (src/lib/sdk/files.ts).
 */
const STOP_DRAIN_MS = 1_000;

/**
 * Fastify's trustProxy for TRUST_PROXY: a hop count becomes "believe the nearest n hops" (Fastify
 * itself refuses plain hop counts); a list of addresses and ranges is passed as it is.
 */
function trustProxyOption(
	trust: HubConfig['trustProxy'],
): false | string[] | ((address: string, hop: number) => boolean) {
	if (typeof trust !== 'number') return trust;
	return (_address, hop) => hop < trust;
}

/** The URL a listening server answers at, and its port. */
function listeningUrl(server: FastifyInstance, host: string, https: boolean): { url: string; port: number } {
	const { port } = server.server.address() as AddressInfo;
	const name = host.includes(':') ? `[${host}]` : host;
	return { url: `${https ? 'https' : 'http'}://${name}:${port}`, port };
}

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
	/**
	 * Listens on config.host:config.port (0 = any free port) and resolves with the URL; and with
	 * the metrics listener's URL when METRICS_PORT is set.
	 */
	start(): Promise<{ url: string; port: number; metricsUrl: string | null }>;
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
	const database = await openStore(mongoUri, config.dbPoolSize);
	// The send path's reads that rarely change, cached (server/services/read-cache.ts).
	const caches = new HubReadCaches(now);
	const store: Store = {
		...database,
		contacts: caches.contacts(database.contacts),
		push: caches.push(database.push),
	};
	let cluster: ClusterLink | null = null;
	try {
		const app = Fastify({
			loggerInstance: logger.child({ component: 'http' }),
			// One line per request of our own instead (http/access-log.ts).
			logController: new LogController({ disableRequestLogging: true }),
			bodyLimit: REST_BODY_LIMIT,
			trustProxy: trustProxyOption(config.trustProxy),
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
		const metrics = createMetrics(() => store.commandCounts());
		const push = new PushService({
			store,
			config,
			io,
			userRoom: rooms.user,
			now,
			logger: logger.child({ component: 'push' }),
			metrics,
			origin: () => allowedOrigin,
		});
		const notify = new Notifier(io, push);
		const activity = new ActivityService(store, config, now, logger.child({ component: 'activity' }));
		const twoFactor = new TwoFactorService(store, now, activity);
		const auth = new AuthService(store, config, now, twoFactor, activity);
		const devices = new DeviceService(
			store,
			auth,
			notify,
			now,
			logger.child({ component: 'devices' }),
			activity,
		);
		if (config.redisUrl) {
			cluster = await joinCluster(io, {
				url: config.redisUrl,
				streamMaxLen: config.redisStreamMaxLen,
				logger,
				metrics: { streamLag: metrics.clusterStreamLag, streamTrimmed: metrics.clusterStreamTrimmed },
				onMaybeMissed: () => {
					notify.syncHint(SYNC_HINT_SPREAD_MS);
					// Declared below; a drop and its end, or a trim, come long after the hub started.
					timelocks.othersMaybeMissed();
					devices.recheckConnected().catch((error: unknown) => {
						logger.warn({ err: error }, 'connected sessions could not be re-checked');
					});
				},
			});
		}
		await twoFactor.init();
		await auth.init();
		const throttle = new SignInThrottle(
			cluster ? redisCounters(cluster.commands) : store.throttle,
			store.settings,
			config.throttle,
			now,
			metrics,
			(failure) => activity.signInFailed(failure),
		);
		await throttle.init();
		if (config.redisUrl) {
			io.on('cache:forget', (change, done) => {
				caches.apply(change);
				done(true);
			});
			caches.onChange(async (change) => {
				try {
					await io.serverSideEmitWithAck('cache:forget', change);
				} catch (error) {
					// A hub that did not answer in time drops its copy within READ_CACHE_TTL_MS all the same.
					logger.warn({ err: error }, 'not every hub confirmed forgetting a changed contact or subscription');
				}
			});
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
		const recent = new RecentEnvelopes();
		const timelocks = new Timelocks({
			hubId,
			recent,
			store,
			notify,
			io,
			clustered: cluster !== null,
			now,
			logger,
			metrics,
		});
		const quota = new QuotaService(store, config, now);
		const files = new FileService(store, config, now, quota);
		const services: HubServices = {
			activity,
			files,
			account: new AccountService(store, auth, twoFactor, timelocks),
			auth,
			contacts: new ContactService(store, notify, timelocks, now),
			devices,
			messages: new MessageService(store, config, now, notify, quota, files, recent),
			maintenance: new MaintenanceService(store, config, notify, auth, activity, files, now, logger),
			push,
			timelocks,
			takeback: new TakebackService(store, config, now, notify, timelocks),
			throttle,
			twoFactor,
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
		installErrorHandler(app, logger);
		installAccessLog(app);
		installSecurityHeaders(app, headers);
		installOriginGuard(app, () => allowedOrigin);
		authRoutes(app, context, policy);
		twoFactorRoutes(app, context, policy);
		accountRoutes(app, context, policy);
		userRoutes(app, context, policy);
		contactRoutes(app, context, policy);
		sessionRoutes(app, context, policy);
		pushRoutes(app, context, policy);
		activityRoutes(app, context, policy);
		await fileRoutes(app, context, policy);
		systemRoutes(app, context);
		await installStatic(app, site, { compression: config.staticCompression });
		attachSocketHandlers(context, policy);

		// Operators' metrics on an address of their own (loopback unless METRICS_HOST says otherwise).
		const metricsApp =
			config.metrics.port === null
				? null
				: (Fastify({ loggerInstance: logger.child({ component: 'metrics' }) }) as unknown as FastifyInstance);
		if (metricsApp) {
			installErrorHandler(metricsApp, logger);
			metricsRoutes(metricsApp, context);
		}

		let stopping: Promise<void> | null = null;
		return {
			app,
			io,
			services,
			context,
			async start() {
				await quota.prepare((given) =>
					logger.info({ given }, 'gave envelopes stored before sizes were kept their size'),
				);
				await app.listen({ port: config.port, host: config.host });
				const { url, port } = listeningUrl(app, config.host, config.tls !== null);
				allowedOrigin ||= new URL(url).origin;
				let metricsUrl: string | null = null;
				if (metricsApp && config.metrics.port !== null) {
					await metricsApp.listen({ port: config.metrics.port, host: config.metrics.host });
					metricsUrl = `${listeningUrl(metricsApp, config.metrics.host, false).url}${ROUTES.metrics}`;
				}
				services.maintenance.start(SWEEP_EVERY_MS);
				services.devices.start(SWEEP_EVERY_MS);
				await services.timelocks.start();
				const metricsAt = [
					metricsUrl,
					config.metrics.token ? `${url}${ROUTES.metrics} (bearer token)` : null,
				];
				logger.info(
					{
						url,
						origin: allowedOrigin,
						pwa: site ? site.root : null,
						metrics: metricsAt.some(Boolean)
							? metricsAt.filter(Boolean)
							: 'not served (set METRICS_TOKEN or METRICS_PORT)',
					},
					'hub listening',
				);
				return { url, port, metricsUrl };
			},
			stop() {
				stopping ??= (async () => {
					try {
						await services.timelocks.stop();
					} catch (error) {
						logger.error({ err: error }, 'time-lock scheduler stop failed');
					}
					const swept = services.maintenance.stop();
					services.devices.stop();
					// Disconnects every socket, closes the engine and the HTTP server (which waits for the
					// requests in flight, up to STOP_DRAIN_MS); Fastify then finishes its own close.
					const drained = setTimeout(() => app.server.closeAllConnections(), STOP_DRAIN_MS);
					try {
						await io.close();
						await app.close();
					} finally {
						clearTimeout(drained);
					}
					await services.push.settle();
					await metricsApp?.close();
					await cluster?.close();
					await swept;
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
