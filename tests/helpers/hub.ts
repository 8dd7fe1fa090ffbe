import { inject } from 'vitest';
import { loadConfig, type HubConfig } from '../../server/config';
import { createHub, type Hub, type HubHooks } from '../../server/hub';

export interface TestHubOptions {
	/** Names the test's own database (letters, digits and "_" are kept). */
	name: string;
	/** Settings as environment variables, over the test defaults. */
	env?: Record<string, string>;
	redisUrl?: string;
	hooks?: HubHooks;
	/** Another test hub's database, to run a second hub over the same data. */
	mongoUri?: string;
}

export interface TestHub {
	readonly url: string;
	readonly hub: Hub;
	readonly mongoUri: string;
	readonly config: HubConfig;
	stop(): Promise<void>;
	/** Stops the hub and starts a new one over the same database (on the same port when it is free). */
	restart(): Promise<void>;
}

/** Settings for tests: any free port, quiet logs, rate limits and quotas out of the way of many sign-ups and sends. */
const TEST_ENV: Record<string, string> = {
	PORT: '0',
	HOST: '127.0.0.1',
	NODE_ENV: 'test',
	LOG_LEVEL: process.env.HUB_LOG_LEVEL ?? 'silent',
	AUTH_RATE_PER_IP_PER_MINUTE: '100000',
	AUTH_RATE_PER_USER_PER_MINUTE: '100000',
	SEND_RATE_PER_SECOND: '100000',
	SEND_BURST: '100000',
};

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
		const hub = await createHub({ config: { ...config, port }, mongoUri, hooks: options.hooks });
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
