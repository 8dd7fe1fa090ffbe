import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, PUSH_SERVICE_HOSTS, isHttps, loadConfig, redactConfig, redactUri } from './config';
import { LIMITS } from '../src/lib/protocol';

describe('loadConfig', () => {
	it('gives the documented defaults for an empty environment', () => {
		const config = loadConfig({});
		expect(config).toMatchObject({
			port: 3000,
			host: '127.0.0.1',
			publicOrigin: null,
			mongodbUri: null,
			dataDir: '.data',
			logLevel: 'info',
			sessionIdleMinutes: 15,
			sessionDays: 30,
			tls: null,
			redisUrl: null,
			retentionDays: 7,
			activityDays: 90,
			timelockHorizonDays: 3650,
			staticDir: 'build',
			staticCompression: true,
			fairness: {
				undeliveredPerRecipient: 5_000,
				storedBytesPerUser: 256 * 1024 * 1024,
				sendsPerSecond: 20,
				sendBurst: 100,
			},
			files: { maxBytes: 2 * 1024 ** 3, abandonMs: 24 * 3_600_000 },
		});
		expect(isHttps(config)).toBe(false);
	});

	it('reads the fairness limits and refuses ones that would stop every send', () => {
		const config = loadConfig({
			QUOTA_UNDELIVERED_PER_RECIPIENT: '10',
			QUOTA_STORED_BYTES_PER_USER: '1048576',
			SEND_RATE_PER_SECOND: '0.5',
			SEND_BURST: '3',
			REQUEST_ENVELOPES_MAX: '2',
			REQUEST_BYTES_MAX: '4096',
		});
		expect(config.fairness).toEqual({
			undeliveredPerRecipient: 10,
			storedBytesPerUser: 1_048_576,
			sendsPerSecond: 0.5,
			sendBurst: 3,
			requestEnvelopesMax: 2,
			requestBytesMax: 4096,
		});
		expect(loadConfig({}).fairness).toMatchObject({
			requestEnvelopesMax: LIMITS.requestEnvelopesMax,
			requestBytesMax: LIMITS.requestBytesMax,
		});
		expect(() => loadConfig({ REQUEST_ENVELOPES_MAX: '0' })).toThrow(/REQUEST_ENVELOPES_MAX/);
		expect(() => loadConfig({ SEND_RATE_PER_SECOND: '0', SEND_BURST: '0' })).toThrow(
			/SEND_RATE_PER_SECOND[\s\S]*SEND_BURST/,
		);
	});

	it('reads and converts every variable', () => {
		const config = loadConfig({
			PORT: '8080',
			HOST: '0.0.0.0',
			PUBLIC_ORIGIN: 'https://chat.example.org/',
			MONGODB_URI: 'mongodb://db:27017/hourglass',
			SESSION_IDLE_MINUTES: '30',
			TLS_CERT: '/etc/cert.pem',
			TLS_KEY: '/etc/key.pem',
			REDIS_URL: 'redis://cache:6379',
			TRUST_PROXY: 'true',
			STATIC_COMPRESSION: 'false',
			NODE_ENV: 'production',
		});
		expect(config.port).toBe(8080);
		expect(config.publicOrigin).toBe('https://chat.example.org');
		expect(config.tls).toEqual({ cert: '/etc/cert.pem', key: '/etc/key.pem' });
		expect(config.trustProxy).toBe(1);
		expect(config.staticCompression).toBe(false);
		expect(isHttps(config)).toBe(true);
	});

	it('reads sign-in throttling and metrics settings, defaults first', () => {
		const defaults = loadConfig({});
		expect(defaults.throttle).toEqual({
			authPerIpPerMinute: 60,
			registerPerIpPerHour: 10,
			registerPerMinute: 60,
			lockout: {
				accountFailures: 5,
				sourceFailures: 20,
				deviceFailures: 10,
				baseMs: 60_000,
				maxMs: 900_000,
				windowMs: 24 * 3_600_000,
			},
			deviceTokenDays: 180,
		});
		expect(defaults.passwordHashConcurrency).toBe(2);
		expect(defaults.metrics).toEqual({ token: null, host: '127.0.0.1', port: null });
		const set = loadConfig({
			LOCKOUT_ACCOUNT_FAILURES: '3',
			LOCKOUT_BASE_SECONDS: '10',
			LOCKOUT_MAX_SECONDS: '40',
			METRICS_TOKEN: 'a-long-enough-operator-token',
			METRICS_PORT: '9464',
		});
		expect(set.throttle.lockout).toMatchObject({ accountFailures: 3, baseMs: 10_000, maxMs: 40_000 });
		expect(set.metrics).toEqual({ token: 'a-long-enough-operator-token', host: '127.0.0.1', port: 9464 });
		expect(() => loadConfig({ LOCKOUT_BASE_SECONDS: '60', LOCKOUT_MAX_SECONDS: '30' })).toThrow(
			/LOCKOUT_MAX_SECONDS/,
		);
		expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
	});

	it("reads TRUST_PROXY as off, a number of hops, or the proxies' addresses", () => {
		expect(loadConfig({}).trustProxy).toBe(false);
		expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
		expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
		expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).trustProxy).toEqual([
			'10.0.0.0/8',
			'127.0.0.1',
			'::1',
		]);
		expect(() => loadConfig({ TRUST_PROXY: 'nginx' })).toThrow(/TRUST_PROXY/);
		expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(/TRUST_PROXY/);
	});

	it('names every bad variable in one error', () => {
		let error: unknown;
		try {
			loadConfig({
				PORT: 'eighty',
				SESSION_IDLE_MINUTES: '0',
				LOG_LEVEL: 'loud',
				PUBLIC_ORIGIN: 'https://x.org/app',
			});
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(ConfigError);
		const message = (error as Error).message;
		for (const name of ['PORT', 'SESSION_IDLE_MINUTES', 'LOG_LEVEL', 'PUBLIC_ORIGIN'])
			expect(message).toContain(name);
	});

	it('refuses TLS_CERT without TLS_KEY, a horizon past ten years and a non-mongodb URI', () => {
		expect(() => loadConfig({ TLS_CERT: '/etc/cert.pem' })).toThrow(/TLS_KEY/);
		expect(() => loadConfig({ TIMELOCK_HORIZON_DAYS: '4000' })).toThrow(/TIMELOCK_HORIZON_DAYS/);
		expect(() => loadConfig({ MONGODB_URI: 'postgres://db' })).toThrow(/MONGODB_URI/);
	});

	it('reads the delete window and the disappearing timers, and refuses timers that are not four up to a week', () => {
		expect(loadConfig({})).toMatchObject({
			deleteWindowMs: 48 * 3_600_000,
			disappearingTimers: { '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000, '1w': 604_800_000 },
		});
		expect(
			loadConfig({ DELETE_WINDOW_SECONDS: '30', DISAPPEARING_TIMERS_SECONDS: '2, 3,4,5' }),
		).toMatchObject({
			deleteWindowMs: 30_000,
			disappearingTimers: { '5m': 2_000, '1h': 3_000, '1d': 4_000, '1w': 5_000 },
		});
		for (const bad of ['1,2,3', '1,2,3,4,5', '0,1,2,3', '1,2,3,604801', '1,2,x,4', '1.5,2,3,4']) {
			expect(() => loadConfig({ DISAPPEARING_TIMERS_SECONDS: bad })).toThrow(/DISAPPEARING_TIMERS_SECONDS/);
		}
		expect(() => loadConfig({ DELETE_WINDOW_SECONDS: '0' })).toThrow(/DELETE_WINDOW_SECONDS/);
	});

	it('refuses SESSION_TRUSTED_DAYS by its old name, from the environment and from CONFIG_FILE', () => {
		expect(loadConfig({ SESSION_DAYS: '90' }).sessionDays).toBe(90);
		expect(() => loadConfig({ SESSION_TRUSTED_DAYS: '90' })).toThrow(
			/SESSION_TRUSTED_DAYS: renamed SESSION_DAYS/,
		);
		const file = join(mkdtempSync(join(tmpdir(), 'hg-config-')), 'hub.json');
		writeFileSync(file, JSON.stringify({ SESSION_TRUSTED_DAYS: 90 }));
		expect(() => loadConfig({ CONFIG_FILE: file })).toThrow(/renamed SESSION_DAYS/);
	});

	it('takes defaults from CONFIG_FILE and lets the environment win', () => {
		const dir = mkdtempSync(join(tmpdir(), 'hg-config-'));
		const file = join(dir, 'hub.json');
		writeFileSync(file, JSON.stringify({ PORT: 4000, RETENTION_DAYS: 3 }));
		const config = loadConfig({ CONFIG_FILE: file, PORT: '5000' });
		expect(config.port).toBe(5000);
		expect(config.retentionDays).toBe(3);
		writeFileSync(file, JSON.stringify({ PROT: 4000 }));
		expect(() => loadConfig({ CONFIG_FILE: file })).toThrow(/unknown setting PROT/);
		expect(() => loadConfig({ CONFIG_FILE: join(dir, 'missing.json') })).toThrow(/CONFIG_FILE/);
	});
});

describe('Web Push settings', () => {
	const publicKey = `B${'A'.repeat(86)}`;
	const privateKey = 'Q'.repeat(43);

	it('default to a key made in DATA_DIR, the known push services, https only, 5 s coalescing', () => {
		expect(loadConfig({}).push).toEqual({
			vapid: null,
			subject: null,
			endpointHosts: PUSH_SERVICE_HOSTS,
			allowHttpLoopback: false,
			coalesceMs: 5000,
		});
	});

	it('read a VAPID pair, a subject and a host list, and refuse half a pair or bad values', () => {
		const config = loadConfig({
			VAPID_PUBLIC_KEY: publicKey,
			VAPID_PRIVATE_KEY: privateKey,
			VAPID_SUBJECT: 'mailto:ops@example.org',
			PUSH_ENDPOINT_HOSTS: 'Push.Example.org, 127.0.0.1',
			PUSH_COALESCE_SECONDS: '0',
		});
		expect(config.push).toMatchObject({
			vapid: { publicKey, privateKey },
			subject: 'mailto:ops@example.org',
			endpointHosts: ['push.example.org', '127.0.0.1'],
			coalesceMs: 0,
		});
		expect(() => loadConfig({ VAPID_PUBLIC_KEY: publicKey })).toThrow(/VAPID_PRIVATE_KEY/);
		expect(() => loadConfig({ VAPID_PUBLIC_KEY: 'short', VAPID_PRIVATE_KEY: privateKey })).toThrow(
			/VAPID_PUBLIC_KEY/,
		);
		expect(() => loadConfig({ VAPID_SUBJECT: 'http://example.org' })).toThrow(/VAPID_SUBJECT/);
		expect(() => loadConfig({ PUSH_ENDPOINT_HOSTS: 'evil.example/path' })).toThrow(/PUSH_ENDPOINT_HOSTS/);
	});

	it('never show the VAPID private key in the logged configuration', () => {
		const shown = JSON.stringify(
			redactConfig(loadConfig({ VAPID_PUBLIC_KEY: publicKey, VAPID_PRIVATE_KEY: privateKey })),
		);
		expect(shown).not.toContain(privateKey);
		expect(shown).toContain(publicKey);
	});
});

describe('redaction', () => {
	it('hides credentials inside URIs and keeps the rest readable', () => {
		expect(redactUri('mongodb://admin:s3cret@db:27017/hg?authSource=admin')).toBe(
			'mongodb://***@db:27017/hg?authSource=admin',
		);
		expect(redactUri('rediss://:pw@cache:6380')).toBe('rediss://***@cache:6380');
		expect(redactUri('mongodb://db/hg?password=x&w=1')).toBe('mongodb://db/hg?password=***&w=1');
		const shown = JSON.stringify(
			redactConfig(
				loadConfig({
					MONGODB_URI: 'mongodb://u:hunter2@db/hg',
					REDIS_URL: 'redis://u:hunter3@r',
					METRICS_TOKEN: 'hunter4-operator-token',
				}),
			),
		);
		expect(shown).not.toContain('hunter2');
		expect(shown).not.toContain('hunter3');
		expect(shown).not.toContain('hunter4');
		expect(shown).toContain('db/hg');
	});
});
