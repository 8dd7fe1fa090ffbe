import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { loadConfig, type HubConfig } from '../../server/config';
import { createHub, type Hub } from '../../server/hub';
import type { Logger } from '../../server/logger';

export interface TestHubOptions {
	/** Names the test's own database (letters, digits and "_" are kept). */
	name: string;
	/** Settings as environment variables, over the test defaults. */
	env?: Record<string, string>;
	redisUrl?: string;
	/** Another test hub's database, to run a second hub over the same data. */
	mongoUri?: string;
	/** The hub's clock, for tests of what time decides (session expiry, time-locks). */
	now?: () => number;
	/** The hub's logger, for tests of what operators see in the logs. */
	logger?: Logger;
}

export interface TestHub {
	readonly url: string;
	/** The metrics listener's URL, when the test set METRICS_PORT. */
	readonly metricsUrl: string | null;
	readonly hub: Hub;
	readonly mongoUri: string;
	readonly config: HubConfig;
	stop(): Promise<void>;
	/** Stops the hub and starts a new one over the same database (on the same port when it is free). */
	restart(): Promise<void>;
}

/** The operator token of test hubs: /metrics on their app port answers whoever sends it. */
export const TEST_METRICS_TOKEN = 'test-operator-metrics-token';

/**
 * Settings for tests: any free port, quiet logs, sign-in throttling, rate limits and quotas out of
 * the way of many sign-ups, wrong passwords and sends (the tests of those limits set their own).
 */
const TEST_ENV: Record<string, string> = {
	PORT: '0',
	HOST: '127.0.0.1',
	NODE_ENV: 'test',
	LOG_LEVEL: process.env.HUB_LOG_LEVEL ?? 'silent',
	AUTH_RATE_PER_IP_PER_MINUTE: '100000',
	REGISTER_RATE_PER_IP_PER_HOUR: '100000',
	REGISTER_RATE_PER_MINUTE: '100000',
	LOCKOUT_ACCOUNT_FAILURES: '100000',
	LOCKOUT_SOURCE_FAILURES: '100000',
	LOCKOUT_DEVICE_FAILURES: '100000',
	SEND_RATE_PER_SECOND: '100000',
	SEND_BURST: '100000',
	// Most tests write to strangers in bursts; tests/integration/contacts.test.ts sets the real caps.
	REQUEST_ENVELOPES_MAX: '100000',
	REQUEST_BYTES_MAX: '1000000000',
	METRICS_TOKEN: TEST_METRICS_TOKEN,
};

/** The Prometheus text of a test hub, read as an operator would (with the token). */
export async function fetchMetrics(hub: { url: string }): Promise<string> {
	const response = await fetch(`${hub.url}/metrics`, {
		headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
	});
	if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
	return response.text();
}

/** The finds a hub in this process has sent to the envelopes collection so far. */
export async function envelopeFinds(hub: TestHub): Promise<number> {
	const metric = await hub.hub.context.metrics.registry
		.getSingleMetric('hourglass_database_commands_total')
		?.get();
	const value = metric?.values.find(
		(v) => v.labels.command === 'find' && v.labels.collection === 'envelopes',
	);
	return value?.value ?? 0;
}

export function testDatabaseUri(name: string): string {
	const safe = name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 30);
	return `${inject('mongoBaseUri')}/it_${safe}_${Date.now().toString(36)}`;
}

/** A real hub on a free port over the run's real database, in a database of the test's own. */
export async function startTestHub(options: TestHubOptions): Promise<TestHub> {
	const mongoUri = options.mongoUri ?? testDatabaseUri(options.name);
	const config = loadConfig({
		...TEST_ENV,
		...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
		...options.env,
	});
	const launch = async (port: number) => {
		const hub = await createHub({
			config: { ...config, port },
			mongoUri,
			now: options.now,
			logger: options.logger,
		});
		try {
			return { hub, ...(await hub.start()) };
		} catch (error) {
			await hub.stop();
			throw error;
		}
	};
	let current = await launch(config.port);
	return {
		get url() {
			return current.url;
		},
		get metricsUrl() {
			return current.metricsUrl;
		},
		get hub() {
			return current.hub;
		},
		mongoUri,
		config,
		stop: () => current.hub.stop(),
		async restart() {
			const port = current.port;
			await current.hub.stop();
			try {
				current = await launch(port);
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
				current = await launch(0);
			}
		},
	};
}

export interface HubProcess {
	readonly url: string;
	readonly pid: number;
	/** Everything the process has written to stdout and stderr so far (JSON log lines). */
	output(): string;
	/** Null while the process runs; then its exit code, or the signal that ended it. */
	exit(): number | NodeJS.Signals | null;
	/** Sends `signal` (SIGKILL: a crash, nothing flushed) and resolves once the process is gone. */
	kill(signal?: NodeJS.Signals): Promise<void>;
}

const PROCESS_START_MS = 60_000;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `server/main.ts` in a child process of its own, as production runs it, over `mongoUri`: a hub
 * that a test can crash with SIGKILL, and whose process-level behaviour (exit or not) is real.
 */
export function startHubProcess(options: {
	mongoUri: string;
	redisUrl?: string;
	env?: Record<string, string>;
}): Promise<HubProcess> {
	return startServerProcess('server/main.ts', {
		env: {
			...TEST_ENV,
			LOG_LEVEL: process.env.HUB_LOG_LEVEL ?? 'warn',
			MONGODB_URI: options.mongoUri,
			...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
			...options.env,
		},
	});
}

/**
 * The V8 flags the hub runs with in production (the Dockerfile's CMD, `npm start`): tests and
 * benches start it the same way. A young generation of at most 4 MiB per semi-space makes the
 * scavenger run often under file traffic, and each scavenge frees the request and driver buffers
 * of the chunks handled since the last one; at V8's default (16 MiB) they pile up as garbage, with
 * the young generation's own growth, to about 90 MiB of RSS during an upload (docs/OPERATIONS.md,
 * "Files: storage").
 */
export const HUB_NODE_FLAGS = ['--max-semi-space-size=4'];

/**
 * A server script of the project (`server/main.ts`, a bench's bare relay) in a child process,
 * resolved once it prints "running at <url>". `env` goes over this process's environment, with a
 * temporary DATA_DIR unless it names one. With `echo`, what the process prints once it runs goes
 * on to this process's output.
 */
export async function startServerProcess(
	script: string,
	options: { env?: Record<string, string>; nodeArgs?: string[]; echo?: boolean } = {},
): Promise<HubProcess> {
	const dataDir = mkdtempSync(join(tmpdir(), 'hourglass-hub-'));
	const child = spawn(
		process.execPath,
		[...HUB_NODE_FLAGS, ...(options.nodeArgs ?? []), '--import', 'tsx', join(ROOT, script)],
		{
			cwd: ROOT,
			env: { ...process.env, DATA_DIR: dataDir, ...options.env },
			stdio: ['ignore', 'pipe', 'pipe'],
		},
	);
	let output = '';
	const collect = (chunk: Buffer) => {
		// Enough of the end to explain a failure, bounded for a long-running process.
		output = (output + chunk.toString()).slice(-100_000);
	};
	child.stdout.on('data', collect);
	child.stderr.on('data', collect);
	const exited = new Promise<void>((done) => child.once('exit', () => done()));
	void exited.then(() => rmSync(dataDir, { recursive: true, force: true }));
	const exit = () => child.exitCode ?? child.signalCode;
	const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
		if (exit() === null) child.kill(signal);
		await exited;
	};
	try {
		const url = await new Promise<string>((done, fail) => {
			const timer = setTimeout(
				() => fail(new Error(`${script} did not start:\n${output}`)),
				PROCESS_START_MS,
			);
			const look = () => {
				const match = /running at (\S+)/.exec(output);
				if (!match) return;
				clearTimeout(timer);
				child.stdout.off('data', look);
				if (options.echo) {
					child.stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk));
					child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
				}
				done(match[1]);
			};
			child.stdout.on('data', look);
			void exited.then(() => {
				clearTimeout(timer);
				fail(new Error(`${script} exited (${String(exit())}) before it started:\n${output}`));
			});
		});
		return { url, pid: child.pid ?? 0, output: () => output, exit, kill };
	} catch (error) {
		await kill('SIGKILL');
		throw error;
	}
}
