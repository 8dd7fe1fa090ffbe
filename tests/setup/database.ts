import { mkdtempSync, rmSync } from 'node:fs';
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
 * (mongod or FerretDB) in a temporary folder. Each test file uses its own database name.
 */
export default async function setup(project: TestProject) {
	const dataDir = mkdtempSync(join(tmpdir(), 'hourglass-test-db-'));
	const db = await startDatabase({
		mongodbUri: process.env.MONGODB_URI,
		dataDir,
		rootDir: process.cwd(),
		dbName: 'placeholder',
	});
	project.provide('mongoBaseUri', db.uri.replace(/\/placeholder$/, ''));
	return async () => {
		await db.stop();
		rmSync(dataDir, { recursive: true, force: true });
	};
}
