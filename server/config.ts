import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { LIMITS } from '../src/lib/protocol';

const HORIZON_MAX_DAYS = Math.floor(LIMITS.timelockHorizonMs / 86_400_000);

const boolean = z
	.enum(['true', 'false', '1', '0', 'yes', 'no'])
	.transform((s) => s === 'true' || s === '1' || s === 'yes');

const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

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
		RETENTION_DAYS: positiveInt(3650).default(7),
		DB_POOL_SIZE: positiveInt(1000).default(10),
		TIMELOCK_HORIZON_DAYS: positiveInt(HORIZON_MAX_DAYS).default(3650),
		STATIC_DIR: z.string().min(1).default('build'),
		TRUST_PROXY: boolean.default(false),
		AUTH_RATE_PER_IP_PER_MINUTE: positiveInt(1_000_000).default(60),
		AUTH_RATE_PER_USER_PER_MINUTE: positiveInt(1_000_000).default(10),
		QUOTA_UNDELIVERED_PER_RECIPIENT: positiveInt(100_000_000).default(5_000),
		QUOTA_STORED_BYTES_PER_USER: positiveInt(2 ** 50).default(256 * 1024 * 1024),
		SEND_RATE_PER_SECOND: z.coerce.number().positive().max(1_000_000).default(20),
		SEND_BURST: positiveInt(1_000_000).default(100),
	})
	.superRefine((env, ctx) => {
		if (Boolean(env.TLS_CERT) !== Boolean(env.TLS_KEY)) {
			ctx.addIssue({
				code: 'custom',
				path: [env.TLS_CERT ? 'TLS_KEY' : 'TLS_CERT'],
				message: 'TLS_CERT and TLS_KEY go together: set both (HTTPS) or neither (HTTP)',
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
	retentionDays: number;
	/** Most database connections (so requests at once) this hub uses: see openStore. */
	dbPoolSize: number;
	timelockHorizonDays: number;
	staticDir: string;
	trustProxy: boolean;
	authRatePerIpPerMinute: number;
	authRatePerUserPerMinute: number;
	/** Per-user limits (server/services/quota.ts). */
	fairness: {
		undeliveredPerRecipient: number;
		storedBytesPerUser: number;
		sendsPerSecond: number;
		sendBurst: number;
	};
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
		retentionDays: e.RETENTION_DAYS,
		dbPoolSize: e.DB_POOL_SIZE,
		timelockHorizonDays: e.TIMELOCK_HORIZON_DAYS,
		staticDir: e.STATIC_DIR,
		trustProxy: e.TRUST_PROXY,
		authRatePerIpPerMinute: e.AUTH_RATE_PER_IP_PER_MINUTE,
		authRatePerUserPerMinute: e.AUTH_RATE_PER_USER_PER_MINUTE,
		fairness: {
			undeliveredPerRecipient: e.QUOTA_UNDELIVERED_PER_RECIPIENT,
			storedBytesPerUser: e.QUOTA_STORED_BYTES_PER_USER,
			sendsPerSecond: e.SEND_RATE_PER_SECOND,
			sendBurst: e.SEND_BURST,
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
