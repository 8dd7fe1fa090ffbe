/**
 * `npx tsx bench/profile-split.ts FILE.cpuprofile`: a CPU profile's self time by what spends it
 * (the database driver, mongoose, bson, libsodium, Socket.IO, the hub's own code, …), to decide
 * what to optimise. Profiles come from `npm run bench -- --profile DIR`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
	id: number;
	callFrame: { url: string; functionName: string };
}
interface Profile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
}

/** First match wins: the order puts libraries before the folders that hold them. */
const GROUPS: [string, RegExp][] = [
	['mongodb driver', /node_modules\/mongodb\//],
	['mongoose', /node_modules\/mongoose\//],
	['bson', /node_modules\/bson\//],
	['libsodium (WASM)', /libsodium|wasm:\/\//],
	[
		'socket.io / engine.io / ws',
		/node_modules\/(socket\.io|engine\.io|ws|socket\.io-parser|socket\.io-adapter)\//,
	],
	['zod', /node_modules\/zod\//],
	['pino / prom-client', /node_modules\/(pino|prom-client)/],
	['other libraries', /node_modules\//],
	['hub code (server/, src/lib)', /\/(server|src\/lib)\//],
	['node internals', /^node:|^internal\//],
];

const [file] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-split FILE.cpuprofile');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const groupOf = new Map<number, string>();
for (const node of profile.nodes) {
	const { url, functionName } = node.callFrame;
	const group = GROUPS.find(([, pattern]) => pattern.test(url))?.[0];
	groupOf.set(
		node.id,
		group ??
			(functionName === '(idle)' ? 'idle' : functionName === '(garbage collector)' ? 'GC' : 'native / other'),
	);
}
const totals = new Map<string, number>();
profile.samples.forEach((id, i) => {
	const group = groupOf.get(id) ?? 'native / other';
	totals.set(group, (totals.get(group) ?? 0) + profile.timeDeltas[i]);
});
const busy = [...totals].filter(([g]) => g !== 'idle').reduce((n, [, t]) => n + t, 0);
process.stdout.write(
	`busy ${(busy / 1e6).toFixed(1)} s, idle ${((totals.get('idle') ?? 0) / 1e6).toFixed(1)} s\n`,
);
for (const [group, time] of [...totals].filter(([g]) => g !== 'idle').sort((a, b) => b[1] - a[1])) {
	process.stdout.write(`${((100 * time) / busy).toFixed(1).padStart(5)}%  ${group}\n`);
}
