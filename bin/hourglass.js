#!/usr/bin/env node
// The `hourglass` command: runs cli/main.ts through tsx. Hourglass targets Node 24; when the
// Node running this file is older, it re-runs itself on the Node 24 the project carries as a
// dev dependency (node_modules/node), if it is there.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const MIN_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
const bundledNode = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));

if (major < MIN_MAJOR && existsSync(bundledNode) && process.execPath !== bundledNode) {
	const child = spawn(bundledNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
		stdio: 'inherit',
	});
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
	child.on('exit', (code, signal) => {
		process.exitCode = code ?? 128 + (constants.signals[signal] ?? 0);
	});
} else {
	const { register } = await import('tsx/esm/api');
	register();
	await import(new URL('../cli/main.ts', import.meta.url).href);
}
