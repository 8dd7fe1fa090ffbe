import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDatabase } from '../../server/db/embedded';

declare module 'vitest' {
	export interface ProvidedContext {
		mongoBaseUri: string;
	}
}

/**
 * One real database for the whole run: MONGODB_URI if set, else the embedded one
 * (mongod, or FerretDB on PostgreSQL) in a temporary folder. Each test file uses its own database name.
 */
export default async function setup(project: TestProject) {
	const dataDir = mkdtempSync(join(tmpdir(), 'hourglass-test-db-'));
	// Reachable by the user PostgreSQL runs as when the tests run as root (mkdtemp makes it 0700).
	chmodSync(dataDir, 0o755);
	const db = await startDatabase({
		mongodbUri: process.env.MONGODB_URI,
		dataDir,
		rootDir: process.cwd(),
		dbName: 'placeholder',
		postgresBinDir: process.env.POSTGRES_BIN_DIR,
	});
	project.provide('mongoBaseUri', db.uri.replace(/\/placeholder$/, ''));
	return async () => {
		await db.stop();
		rmSync(dataDir, { recursive: true, force: true });
	};
}
