#!/usr/bin/env node
// The `hourglass` command. Hourglass targets Node 24; when the Node running this file is older,
// it re-runs itself on the Node 24 the project carries as a dev dependency (node_modules/node),
// if it is there. It runs the CLI bundle that `npm run build` makes (scripts/build-cli.ts) while
// that bundle is newer than every file it was made from, and cli/main.ts through tsx otherwise.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const MIN_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
const root = new URL('../', import.meta.url);
const bundledNode = fileURLToPath(new URL('node_modules/node/bin/node', root));
const bundle = new URL('dist/cli/hourglass.mjs', root);

/** Whether the bundle was built after the last change to any project file in it. */
function bundleIsCurrent() {
	try {
		const builtAt = statSync(bundle).mtimeMs;
		const inputs = JSON.parse(readFileSync(new URL('dist/cli/inputs.json', root), 'utf8'));
		return inputs.every((input) => statSync(new URL(input, root)).mtimeMs <= builtAt);
	} catch {
		return false;
	}
}

if (major < MIN_MAJOR && existsSync(bundledNode) && process.execPath !== bundledNode) {
	const child = spawn(bundledNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
		stdio: 'inherit',
	});
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
	child.on('exit', (code, signal) => {
		process.exitCode = code ?? 128 + (constants.signals[signal] ?? 0);
	});
} else if (bundleIsCurrent()) {
	// Node keeps the compiled code of the bundle and its packages (libsodium's is large) on disk.
	// (Imported as a namespace: an older Node must get as far as the re-run above.)
	nodeModule.enableCompileCache();
	await import(bundle.href);
} else {
	const { register } = await import('tsx/esm/api');
	register();
	await import(new URL('cli/main.ts', root).href);
}
