/**
 * `npm run bench:sockets`: what an idle, authenticated socket costs the hub, beside a bare
 * Socket.IO server's socket, in the same run. The hub (server/main.ts with its database) and the
 * bare relay each run in a process of their own; the sockets come from several client processes
 * (one process holding 10,000 sockets would measure itself), all on 127.0.0.1. Prints the RSS
 * added per socket (the server's RSS after all connected, minus before), their ratio, and the
 * time to connect them all.
 *
 *   npm run bench:sockets -- [--sockets 10000] [--users 20] [--clients 4] [--mongodb-uri mongodb://…]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ready } from '../src/lib/crypto';
import { HubApi, createAccount } from '../src/lib/sdk';
import {
	startBareRelayProcess,
	startBenchHubProcess,
	type HubProcess,
	type BenchHubProcess,
} from './lib/harness';
import { fixed, table } from './lib/stats';
import { integerOption } from './lib/options';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** After the last connect, the server's RSS is read when it has been still this long. */
const SETTLE_MS = 3_000;
const PASSWORD = 'bench password, not secret';

interface Options {
	sockets: number;
	users: number;
	clients: number;
	mongodbUri: string | undefined;
}

function readOptions(argv: string[]): Options {
	const { values } = parseArgs({
		args: argv,
		options: {
			sockets: { type: 'string', default: '10000' },
			users: { type: 'string', default: '20' },
			clients: { type: 'string', default: '4' },
			'mongodb-uri': { type: 'string' },
		},
		strict: true,
	});
	return {
		sockets: integerOption('sockets', values.sockets, 1, 50_000),
		users: integerOption('users', values.users, 1, 1000),
		clients: integerOption('clients', values.clients, 1, 32),
		mongodbUri: values['mongodb-uri'],
	};
}

function rssBytes(pid: number): number {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = /VmRSS:\s+(\d+) kB/.exec(status);
	if (!kb) throw new Error(`no VmRSS for ${pid}`);
	return Number(kb[1]) * 1024;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface Measured {
	connected: number;
	failed: number;
	connectMs: number;
	rssBefore: number;
	rssAfter: number;
}

/** Opens `options.sockets` sockets over the client processes, measures, then closes them. */
async function measure(
	pid: number,
	url: string,
	kind: 'hub' | 'bare',
	credentials: string[],
	options: Options,
): Promise<Measured> {
	await sleep(SETTLE_MS);
	const rssBefore = rssBytes(pid);
	const children: ChildProcess[] = [];
	try {
		const per = Math.ceil(options.sockets / options.clients);
		const reports = await Promise.all(
			Array.from({ length: options.clients }, (_, i) => {
				const count = Math.min(per, options.sockets - i * per);
				const input = JSON.stringify({ url, kind, credentials, count });
				const child = spawn(
					process.execPath,
					['--import', 'tsx', join(ROOT, 'bench/lib/socket-clients.ts'), input],
					{
						cwd: ROOT,
						stdio: ['pipe', 'pipe', 'inherit'],
					},
				);
				children.push(child);
				return new Promise<{ connected: number; failed: number; ms: number }>((done, fail) => {
					let output = '';
					child.stdout?.on('data', (chunk: Buffer) => {
						output += chunk.toString();
						const line = output.split('\n').find((l) => l.startsWith('{'));
						if (line && output.includes('\n'))
							done(JSON.parse(line) as { connected: number; failed: number; ms: number });
					});
					child.once('exit', (code) => fail(new Error(`a client process exited (${code}) early`)));
				});
			}),
		);
		await sleep(SETTLE_MS);
		return {
			connected: reports.reduce((n, r) => n + r.connected, 0),
			failed: reports.reduce((n, r) => n + r.failed, 0),
			connectMs: Math.max(...reports.map((r) => r.ms)),
			rssBefore,
			rssAfter: rssBytes(pid),
		};
	} finally {
		await Promise.all(
			children.map(
				(child) =>
					new Promise<void>((done) => {
						if (child.exitCode !== null) return done();
						child.once('exit', () => done());
						child.stdin?.end();
					}),
			),
		);
	}
}

async function main(): Promise<number> {
	const options = readOptions(process.argv.slice(2));
	await ready();
	let hub: BenchHubProcess | null = null;
	let bare: HubProcess | null = null;
	try {
		process.stderr.write('sockets: starting the database, the hub and the bare relay…\n');
		[hub, bare] = await Promise.all([
			startBenchHubProcess('sockets', options.mongodbUri),
			startBareRelayProcess(),
		]);
		process.stderr.write(`sockets: signing up ${options.users} users…\n`);
		const runId = Date.now().toString(36);
		const cookies: string[] = [];
		for (let i = 0; i < options.users; i++) {
			const api = new HubApi({ baseUrl: hub.url, keepCookies: true });
			await createAccount(api, `idle${i}-${runId}`, PASSWORD);
			cookies.push(api.cookieHeader() ?? '');
		}
		process.stderr.write(`sockets: ${options.sockets} sockets to the hub…\n`);
		const atHub = await measure(hub.pid, hub.url, 'hub', cookies, options);
		process.stderr.write(`sockets: ${options.sockets} sockets to the bare relay…\n`);
		const names = Array.from({ length: options.users }, (_, i) => `idle${i}`);
		const atBare = await measure(bare.pid, bare.url, 'bare', names, options);

		const perSocket = (m: Measured) => (m.rssAfter - m.rssBefore) / Math.max(1, m.connected);
		const row = (label: string, m: Measured) => [
			label,
			String(m.connected),
			String(m.failed),
			fixed(m.rssBefore / 2 ** 20),
			fixed(m.rssAfter / 2 ** 20),
			fixed(perSocket(m) / 1024),
			fixed(m.connectMs / 1000),
		];
		process.stdout.write(
			[
				`Idle sockets: ${options.sockets} from ${options.clients} client processes, ${options.users} users' sessions, all on 127.0.0.1.`,
				'',
				table([
					['', 'connected', 'failed', 'RSS before MB', 'RSS after MB', 'KB per socket', 'connect s'],
					row('hub (authenticated)', atHub),
					row('bare Socket.IO server', atBare),
				]),
				'',
				`hub ÷ bare: RSS per socket ${fixed(perSocket(atHub) / perSocket(atBare))}× (goal ≤ 1.5), ` +
					`connect time ${fixed(atHub.connectMs / atBare.connectMs)}×`,
			].join('\n') + '\n',
		);
		return atHub.failed + atBare.failed === 0 ? 0 : 1;
	} finally {
		await bare?.kill();
		await hub?.close();
	}
}

process.exitCode = await main();
