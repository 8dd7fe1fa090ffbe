import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, redactConfig, type HubConfig } from './config';
import { startDatabase, type RunningDatabase } from './db/embedded';
import { createHub, type Hub } from './hub';
import { createLogger, type Logger } from './logger';

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
	const shutdown = (signal: string, exitCode = 0) => {
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
			.then(() => process.exit(exitCode))
			.catch((error: unknown) => {
				logger.error({ err: error }, 'stop failed');
				process.exit(1);
			});
	};
	process.once('SIGINT', () => shutdown('SIGINT'));
	process.once('SIGTERM', () => shutdown('SIGTERM'));
	// A promise nobody awaited failed (a library's fire-and-forget call while Redis restarts, say):
	// the work it stood for is already lost or retried by its owner, and every other request is
	// unaffected, so the hub logs it and keeps serving. Each known source is caught where it starts.
	process.on('unhandledRejection', (reason) => {
		logger.error({ err: reason }, 'unhandled rejection');
	});
	// A throw that unwound through unknown code may have left any state half-changed, so the hub
	// does not go on as if nothing happened: it stops as cleanly as it can and exits non-zero for
	// its supervisor to restart it. Nothing acknowledged is lost (it is stored before the ack),
	// and devices reconnect, to another hub or to this one, and sync.
	process.on('uncaughtException', (error) => {
		logger.fatal({ err: error }, 'uncaught exception: stopping');
		shutdown('uncaughtException', 1);
	});

	try {
		hub = await createHub({ config, mongoUri: db.uri, logger });
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
