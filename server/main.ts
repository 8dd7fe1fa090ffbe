import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, redactConfig, type HubConfig } from './config';
import { startDatabase, type RunningDatabase } from './db/embedded';
import { createHub, type Hub } from './hub';
import { createLogger, type Logger } from './logger';
import { timelockHooks } from './services/timelock';

/** How long a clean stop may take before the process gives up waiting and exits anyway. */
const STOP_TIMEOUT_MS = 20_000;

const rootDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message: string): never {
	process.stderr.write(`hourglass: ${message}\n`);
	process.exit(1);
}

function readConfig(): HubConfig {
	try {
		return loadConfig();
	} catch (error) {
		if (error instanceof ConfigError) fail(error.message);
		throw error;
	}
}

async function run(config: HubConfig, logger: Logger): Promise<void> {
	let db: RunningDatabase;
	try {
		db = await startDatabase({
			mongodbUri: config.mongodbUri ?? undefined,
			dataDir: resolve(config.dataDir),
			postgresBinDir: config.postgresBinDir ?? undefined,
			rootDir,
			log: (message) => logger.info(message),
		});
	} catch (error) {
		fail(`cannot start a database: ${(error as Error).message}`);
	}
	logger.info({ kind: db.kind }, 'database ready');

	let hub: Hub | null = null;
	let stopping = false;
	const shutdown = (signal: string) => {
		if (stopping) return;
		stopping = true;
		logger.info({ signal }, 'stopping');
		// The hub first (no more writes), then the child database: nothing is left running.
		const timer = setTimeout(() => {
			logger.error('stop timed out');
			process.exit(1);
		}, STOP_TIMEOUT_MS);
		timer.unref();
		(async () => {
			await hub?.stop();
			await db.stop();
		})()
			.then(() => process.exit(0))
			.catch((error: unknown) => {
				logger.error({ err: error }, 'stop failed');
				process.exit(1);
			});
	};
	process.once('SIGINT', () => shutdown('SIGINT'));
	process.once('SIGTERM', () => shutdown('SIGTERM'));

	try {
		hub = await createHub({ config, mongoUri: db.uri, logger, hooks: timelockHooks() });
		const { url } = await hub.start();
		process.stdout.write(`Hourglass is running at ${url}\n`);
	} catch (error) {
		logger.error({ err: error }, 'the hub could not start');
		await hub?.stop().catch(() => {});
		await db.stop();
		fail(`the hub could not start: ${(error as Error).message}`);
	}
}

const config = readConfig();
const logger = createLogger(config);
logger.info({ config: redactConfig(config) }, 'configuration');
await run(config, logger);
