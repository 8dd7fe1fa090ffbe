import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { DISAPPEARING_CHOICES, LIMITS, type DisappearingChoice } from '../src/lib/protocol';

const HORIZON_MAX_DAYS = Math.floor(LIMITS.timelockHorizonMs / 86_400_000);

const boolean = z
	.enum(['true', 'false', '1', '0', 'yes', 'no'])
	.transform((s) => s === 'true' || s === '1' || s === 'yes');

const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

/**
 * Which proxies in front of the hub to believe about the client's address (X-Forwarded-For):
 * `false` none; `true` the nearest one only (1 hop: what the proxy in front saw, not what the client
 * wrote into the header); a number of hops; or a list of proxy addresses and CIDR ranges.
 */
const trustProxy = z.string().transform((text, ctx): false | number | string[] => {
	const value = text.trim().toLowerCase();
	if (['false', 'no', '0'].includes(value)) return false;
	if (['true', 'yes'].includes(value)) return 1;
	if (/^\d+$/.test(value)) {
		const hops = Number(value);
		if (hops <= 10) return hops;
		ctx.addIssue({ code: 'custom', message: 'at most 10 hops' });
		return z.NEVER;
	}
	const list = value.split(',').map((part) => part.trim());
	const bad = list.find((part) => {
		const [address, bits, ...rest] = part.split('/');
		const family = isIP(address);
		if (family === 0 || rest.length > 0) return true;
		if (bits === undefined) return false;
		return !/^\d+$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128);
	});
	if (bad !== undefined) {
		ctx.addIssue({
			code: 'custom',
			message: `"${bad}" is not true, false, a number of hops or a list of addresses and CIDR ranges`,
		});
		return z.NEVER;
	}
	return list;
});

/** The four disappearing-message timers (5m, 1h, 1d, 1w), in seconds: tests shorten them. */
const disappearingTimers = z.string().transform((text, ctx) => {
	const parts = text.split(',').map((part) => part.trim());
	const max = LIMITS.disappearingMaxMs / 1000;
	if (
		parts.length !== DISAPPEARING_CHOICES.length ||
		parts.some((p) => !/^\d+$/.test(p) || +p < 1 || +p > max)
	) {
		ctx.addIssue({
			code: 'custom',
			message: `four whole numbers of seconds from 1 to ${max}, comma-separated`,
		});
		return z.NEVER;
	}
	return Object.fromEntries(
		DISAPPEARING_CHOICES.map((choice, i) => [choice, Number(parts[i]) * 1000]),
	) as Record<DisappearingChoice, number>;
});

/** A URL's origin only (scheme, host, port): what a browser sends in the Origin header. */
const origin = z
	.string()
	.url()
	.transform((s, ctx) => {
		const url = new URL(s);
		if (url.protocol !== 'http:' && url.protocol !== 'https:') {
			ctx.addIssue({ code: 'custom', message: 'must be an http(s) origin' });
			return z.NEVER;
		}
		if (url.pathname !== '/' || url.search || url.hash || url.username) {
			ctx.addIssue({ code: 'custom', message: 'must be an origin only, e.g. https://chat.example.org' });
			return z.NEVER;
		}
		return url.origin;
	});

/**
 * The push services browsers subscribe with (Chrome and Android, Firefox, Safari and iOS, Edge):
 * the hub POSTs only to these hosts and their subdomains, so a subscription cannot aim the hub's
 * requests at an address of the operator's network.
 */
export const PUSH_SERVICE_HOSTS = [
	'fcm.googleapis.com',
	'android.googleapis.com',
	'push.services.mozilla.com',
	'push.apple.com',
	'notify.windows.com',
];

const hostList = z.string().transform((text, ctx) => {
	const hosts = text
		.split(',')
		.map((part) => part.trim().toLowerCase())
		.filter(Boolean);
	const bad = hosts.find((host) => !/^[a-z0-9.-]+$|^\[[0-9a-f:]+\]$/.test(host));
	if (bad !== undefined) {
		ctx.addIssue({ code: 'custom', message: `"${bad}" is not a host name` });
		return z.NEVER;
	}
	return hosts;
});

/** A VAPID key as web-push makes them: P-256, unpadded base64url (65-byte public, 32-byte private). */
const vapidKey = (bytes: number) =>
	z
		.string()
		.regex(
			new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((bytes * 4) / 3)}}$`),
			`expected base64url of ${bytes} bytes`,
		);

/**
 * Every setting the hub reads, by the environment variable's name. A config file (CONFIG_FILE,
 * JSON with the same keys) gives defaults; the environment wins over it.
 */
const Env = z
	.object({
		PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
		HOST: z.string().min(1).default('127.0.0.1'),
		PUBLIC_ORIGIN: origin.optional(),
		MONGODB_URI: z
			.string()
			.regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
			.optional(),
		DATA_DIR: z.string().min(1).default('.data'),
		POSTGRES_BIN_DIR: z.string().min(1).optional(),
		LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
		NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
		SESSION_IDLE_MINUTES: positiveInt(7 * 24 * 60).default(15),
		SESSION_DAYS: positiveInt(3650).default(30),
		TLS_CERT: z.string().min(1).optional(),
		TLS_KEY: z.string().min(1).optional(),
		REDIS_URL: z
			.string()
			.regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
			.optional(),
		REDIS_STREAM_MAX_LEN: positiveInt(10_000_000).default(10_000),
		RETENTION_DAYS: positiveInt(3650).default(7),
		ACTIVITY_DAYS: positiveInt(3650).default(90),
		DB_POOL_SIZE: positiveInt(1000).default(10),
		TIMELOCK_HORIZON_DAYS: positiveInt(HORIZON_MAX_DAYS).default(3650),
		/** How long after sending a message its sender may delete it for everyone (48 hours). */
		DELETE_WINDOW_SECONDS: positiveInt(365 * 86_400).default(48 * 3600),
		DISAPPEARING_TIMERS_SECONDS: disappearingTimers.default({
			'5m': 300_000,
			'1h': 3_600_000,
			'1d': 86_400_000,
			'1w': 604_800_000,
		}),
		STATIC_DIR: z.string().min(1).default('build'),
		STATIC_COMPRESSION: boolean.default(true),
		TRUST_PROXY: trustProxy.default(false),
		AUTH_RATE_PER_IP_PER_MINUTE: positiveInt(1_000_000).default(60),
		REGISTER_RATE_PER_IP_PER_HOUR: positiveInt(1_000_000).default(10),
		REGISTER_RATE_PER_MINUTE: positiveInt(1_000_000).default(60),
		LOCKOUT_ACCOUNT_FAILURES: positiveInt(1_000_000).default(5),
		LOCKOUT_SOURCE_FAILURES: positiveInt(1_000_000).default(20),
		LOCKOUT_DEVICE_FAILURES: positiveInt(1_000_000).default(10),
		LOCKOUT_BASE_SECONDS: positiveInt(86_400).default(60),
		LOCKOUT_MAX_SECONDS: positiveInt(7 * 86_400).default(900),
		LOCKOUT_WINDOW_HOURS: positiveInt(24 * 30).default(24),
		DEVICE_TOKEN_DAYS: positiveInt(3650).default(180),
		PASSWORD_HASH_CONCURRENCY: positiveInt(64).default(2),
		METRICS_TOKEN: z.string().min(16, 'must have at least 16 characters').optional(),
		METRICS_HOST: z.string().min(1).default('127.0.0.1'),
		METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
		QUOTA_UNDELIVERED_PER_RECIPIENT: positiveInt(100_000_000).default(5_000),
		QUOTA_STORED_BYTES_PER_USER: positiveInt(2 ** 50).default(256 * 1024 * 1024),
		SEND_RATE_PER_SECOND: z.coerce.number().positive().max(1_000_000).default(20),
		SEND_BURST: positiveInt(1_000_000).default(100),
		REQUEST_ENVELOPES_MAX: positiveInt(100_000_000).default(LIMITS.requestEnvelopesMax),
		REQUEST_BYTES_MAX: positiveInt(2 ** 50).default(LIMITS.requestBytesMax),
		FILE_MAX_BYTES: positiveInt(2 ** 50).default(2 * 1024 ** 3),
		FILE_ABANDON_HOURS: positiveInt(24 * 365).default(24),
		VAPID_PUBLIC_KEY: vapidKey(65).optional(),
		VAPID_PRIVATE_KEY: vapidKey(32).optional(),
		VAPID_SUBJECT: z
			.string()
			.regex(/^(mailto:|https:\/\/)\S+$/, 'must be a mailto: or https: URL')
			.optional(),
		PUSH_ENDPOINT_HOSTS: hostList.default(PUSH_SERVICE_HOSTS),
		PUSH_ALLOW_HTTP_LOOPBACK: boolean.default(false),
		PUSH_COALESCE_SECONDS: z.coerce.number().int().min(0).max(3600).default(5),
	})
	.superRefine((env, ctx) => {
		if (Boolean(env.TLS_CERT) !== Boolean(env.TLS_KEY)) {
			ctx.addIssue({
				code: 'custom',
				path: [env.TLS_CERT ? 'TLS_KEY' : 'TLS_CERT'],
				message: 'TLS_CERT and TLS_KEY go together: set both (HTTPS) or neither (HTTP)',
			});
		}
		if (Boolean(env.VAPID_PUBLIC_KEY) !== Boolean(env.VAPID_PRIVATE_KEY)) {
			ctx.addIssue({
				code: 'custom',
				path: [env.VAPID_PUBLIC_KEY ? 'VAPID_PRIVATE_KEY' : 'VAPID_PUBLIC_KEY'],
				message: 'VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY go together: set both or neither (kept in DATA_DIR)',
			});
		}
		if (env.LOCKOUT_MAX_SECONDS < env.LOCKOUT_BASE_SECONDS) {
			ctx.addIssue({
				code: 'custom',
				path: ['LOCKOUT_MAX_SECONDS'],
				message: 'must be at least LOCKOUT_BASE_SECONDS',
			});
		}
	});

type EnvKey = keyof z.input<typeof Env>;
const ENV_KEYS = Object.keys(Env.shape) as EnvKey[];

/** Settings that were renamed: refused by their old name, so that a setting never silently stops applying. */
const RENAMED: Record<string, { now: EnvKey; why: string }> = {
	SESSION_TRUSTED_DAYS: { now: 'SESSION_DAYS', why: 'every session now lives that long' },
};

export interface HubConfig {
	port: number;
	host: string;
	/** The Origin browsers must send; null means "this hub's own URL", known once it listens. */
	publicOrigin: string | null;
	mongodbUri: string | null;
	dataDir: string;
	/** A folder with `postgres` and `initdb` for the embedded database, used before any other. */
	postgresBinDir: string | null;
	logLevel: z.output<typeof Env>['LOG_LEVEL'];
	nodeEnv: z.output<typeof Env>['NODE_ENV'];
	/** The PWA locks itself (forgets its keys) after this long without user interaction. */
	sessionIdleMinutes: number;
	/** A session ends after this many days without use; an open connection is use. */
	sessionDays: number;
	/** File paths of the certificate and key; HTTPS when set. */
	tls: { cert: string; key: string } | null;
	redisUrl: string | null;
	/** About how many entries the Redis stream between hubs keeps (the adapter trims it to this). */
	redisStreamMaxLen: number;
	retentionDays: number;
	/** A user's activity log keeps each event this many days. */
	activityDays: number;
	/** Most database connections (so requests at once) this hub uses: see openStore. */
	dbPoolSize: number;
	timelockHorizonDays: number;
	/** Delete for everyone is refused this long after the hub stored the message. */
	deleteWindowMs: number;
	/** The disappearing-message choices' timers, in milliseconds. */
	disappearingTimers: Record<DisappearingChoice, number>;
	staticDir: string;
	/** Serve the PWA brotli- or gzip-compressed to browsers that accept it. */
	staticCompression: boolean;
	/** Fastify's trustProxy: false, a number of hops, or the proxies' addresses and ranges. */
	trustProxy: false | number | string[];
	/** Sign-in throttling (server/services/throttle): request budgets and lockouts, shared by all hubs. */
	throttle: ThrottleConfig;
	/** Password hashes (Argon2id) computed at once by this hub; sign-ins go first (server/services/password-hash.ts). */
	passwordHashConcurrency: number;
	/** Where /metrics is served: on the app port with `token`, and/or on host:port of its own. */
	metrics: { token: string | null; host: string; port: number | null };
	/** Per-user limits (server/services/quota.ts). */
	fairness: {
		undeliveredPerRecipient: number;
		storedBytesPerUser: number;
		sendsPerSecond: number;
		sendBurst: number;
		/** What a non-contact may leave stored for a user (a message request); LIMITS holds the defaults. */
		requestEnvelopesMax: number;
		requestBytesMax: number;
	};
	/** Files (server/services/files.ts). */
	files: {
		/** Largest ciphertext of one file, in bytes. */
		maxBytes: number;
		/** An upload no envelope references this long after it was created is swept. */
		abandonMs: number;
	};
	/** Web Push (server/services/push.ts). */
	push: PushConfig;
}

export interface PushConfig {
	/** The VAPID key pair from the environment; null: generated once and kept in DATA_DIR/vapid.json. */
	vapid: { publicKey: string; privateKey: string } | null;
	/** The contact push services may use (VAPID `sub`); null: PUBLIC_ORIGIN, or the hub's own URL. */
	subject: string | null;
	/** Hosts (and their subdomains) a subscription's endpoint may name. */
	endpointHosts: string[];
	/** Accept http:// endpoints on a loopback address (tests' local push service). */
	allowHttpLoopback: boolean;
	/** At most one push per device and sender in this window. */
	coalesceMs: number;
}

export interface ThrottleConfig {
	/** Requests to the auth routes (prelogin, register, login, logout) per source address and minute. */
	authPerIpPerMinute: number;
	registerPerIpPerHour: number;
	/** Registrations per minute over the whole service, whatever their address. */
	registerPerMinute: number;
	lockout: {
		/** Failed sign-ins (without a known device) that lock an account, and a source address. */
		accountFailures: number;
		sourceFailures: number;
		/** Failed sign-ins with one device token before that token stops exempting its device. */
		deviceFailures: number;
		/** The first lock lasts baseMs; each failure after it doubles the next one, up to maxMs. */
		baseMs: number;
		maxMs: number;
		/** Failures older than this are forgotten. */
		windowMs: number;
	};
	deviceTokenDays: number;
}

export class ConfigError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ConfigError';
	}
}

/**
 * Reads and validates the configuration once, at start. Throws a ConfigError naming every
 * variable that is wrong, so the operator can fix them all in one go.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): HubConfig {
	for (const [old, { now, why }] of Object.entries(RENAMED)) {
		if (env[old] !== undefined && env[old] !== '') {
			throw new ConfigError(`Invalid configuration:\n  ${old}: renamed ${now} (${why})`);
		}
	}
	const raw: Partial<Record<EnvKey, string>> = { ...readConfigFile(env.CONFIG_FILE) };
	for (const key of ENV_KEYS) {
		const value = env[key];
		if (value !== undefined && value !== '') raw[key] = value;
	}
	const parsed = Env.safeParse(raw);
	if (!parsed.success) {
		const lines = parsed.error.issues.map(
			(issue) => `  ${issue.path.join('.') || '(config)'}: ${issue.message}`,
		);
		throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
	}
	const e = parsed.data;
	return {
		port: e.PORT,
		host: e.HOST,
		publicOrigin: e.PUBLIC_ORIGIN ?? null,
		mongodbUri: e.MONGODB_URI ?? null,
		dataDir: e.DATA_DIR,
		postgresBinDir: e.POSTGRES_BIN_DIR ?? null,
		logLevel: e.LOG_LEVEL,
		nodeEnv: e.NODE_ENV,
		sessionIdleMinutes: e.SESSION_IDLE_MINUTES,
		sessionDays: e.SESSION_DAYS,
		tls: e.TLS_CERT && e.TLS_KEY ? { cert: e.TLS_CERT, key: e.TLS_KEY } : null,
		redisUrl: e.REDIS_URL ?? null,
		redisStreamMaxLen: e.REDIS_STREAM_MAX_LEN,
		retentionDays: e.RETENTION_DAYS,
		activityDays: e.ACTIVITY_DAYS,
		dbPoolSize: e.DB_POOL_SIZE,
		timelockHorizonDays: e.TIMELOCK_HORIZON_DAYS,
		deleteWindowMs: e.DELETE_WINDOW_SECONDS * 1000,
		disappearingTimers: e.DISAPPEARING_TIMERS_SECONDS,
		staticDir: e.STATIC_DIR,
		staticCompression: e.STATIC_COMPRESSION,
		trustProxy: e.TRUST_PROXY,
		throttle: {
			authPerIpPerMinute: e.AUTH_RATE_PER_IP_PER_MINUTE,
			registerPerIpPerHour: e.REGISTER_RATE_PER_IP_PER_HOUR,
			registerPerMinute: e.REGISTER_RATE_PER_MINUTE,
			lockout: {
				accountFailures: e.LOCKOUT_ACCOUNT_FAILURES,
				sourceFailures: e.LOCKOUT_SOURCE_FAILURES,
				deviceFailures: e.LOCKOUT_DEVICE_FAILURES,
				baseMs: e.LOCKOUT_BASE_SECONDS * 1000,
				maxMs: e.LOCKOUT_MAX_SECONDS * 1000,
				windowMs: e.LOCKOUT_WINDOW_HOURS * 3_600_000,
			},
			deviceTokenDays: e.DEVICE_TOKEN_DAYS,
		},
		passwordHashConcurrency: e.PASSWORD_HASH_CONCURRENCY,
		metrics: { token: e.METRICS_TOKEN ?? null, host: e.METRICS_HOST, port: e.METRICS_PORT ?? null },
		fairness: {
			undeliveredPerRecipient: e.QUOTA_UNDELIVERED_PER_RECIPIENT,
			storedBytesPerUser: e.QUOTA_STORED_BYTES_PER_USER,
			sendsPerSecond: e.SEND_RATE_PER_SECOND,
			sendBurst: e.SEND_BURST,
			requestEnvelopesMax: e.REQUEST_ENVELOPES_MAX,
			requestBytesMax: e.REQUEST_BYTES_MAX,
		},
		files: { maxBytes: e.FILE_MAX_BYTES, abandonMs: e.FILE_ABANDON_HOURS * 3_600_000 },
		push: {
			vapid:
				e.VAPID_PUBLIC_KEY && e.VAPID_PRIVATE_KEY
					? { publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY }
					: null,
			subject: e.VAPID_SUBJECT ?? null,
			endpointHosts: e.PUSH_ENDPOINT_HOSTS,
			allowHttpLoopback: e.PUSH_ALLOW_HTTP_LOOPBACK,
			coalesceMs: e.PUSH_COALESCE_SECONDS * 1000,
		},
	};
}

function readConfigFile(path: string | undefined): Partial<Record<EnvKey, string>> {
	if (!path) return {};
	let json: unknown;
	try {
		json = JSON.parse(readFileSync(path, 'utf8'));
	} catch (error) {
		throw new ConfigError(`CONFIG_FILE: cannot read ${path} as JSON (${(error as Error).message})`);
	}
	if (typeof json !== 'object' || json === null || Array.isArray(json)) {
		throw new ConfigError(`CONFIG_FILE: ${path} must hold a JSON object of settings`);
	}
	const out: Partial<Record<EnvKey, string>> = {};
	for (const [key, value] of Object.entries(json)) {
		const renamed = RENAMED[key];
		if (renamed)
			throw new ConfigError(`CONFIG_FILE: ${key} in ${path} is renamed ${renamed.now} (${renamed.why})`);
		if (!(ENV_KEYS as string[]).includes(key)) {
			throw new ConfigError(`CONFIG_FILE: unknown setting ${key} in ${path}`);
		}
		if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
			throw new ConfigError(`CONFIG_FILE: ${key} must be a string, number or boolean`);
		}
		out[key as EnvKey] = String(value);
	}
	return out;
}

/** The configuration as it may be logged: credentials inside URIs replaced, file paths kept. */
export function redactConfig(config: HubConfig): Record<string, unknown> {
	return {
		...config,
		mongodbUri: config.mongodbUri && redactUri(config.mongodbUri),
		redisUrl: config.redisUrl && redactUri(config.redisUrl),
		metrics: { ...config.metrics, token: config.metrics.token && '***' },
		push: { ...config.push, vapid: config.push.vapid && { ...config.push.vapid, privateKey: '***' } },
	};
}

/** Replaces the user-info part of a URI (`scheme://user:pass@host`) and secret-looking query values. */
export function redactUri(uri: string): string {
	return uri
		.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@')
		.replace(/([?&](?:password|pass|pwd|secret|token|key)=)[^&]*/gi, '$1***');
}

/**
 * Whether browsers reach the hub over HTTPS: it serves TLS itself, or a proxy in front does
 * (PUBLIC_ORIGIN is https). Secure cookies, the __Host- prefix and HSTS follow from it.
 */
export function isHttps(config: HubConfig): boolean {
	return config.tls !== null || (config.publicOrigin?.startsWith('https:') ?? false);
}
