/**
 * `npm run bench:search`: the PWA's local search index (src/lib/client/search-index.ts) over a
 * generated history of 1k, 10k and 100k messages in 20 conversations. Prints the build time, the
 * query latency p50/p99 over a mix of one-word, two-word, prefix (as typed) and misspelt queries
 * (goal: p99 ≤ 100 ms at 100k), and the heap the index holds (with --expose-gc, which the script
 * passes, after a collection).
 *
 *   npm run bench:search -- [--sizes 1000,10000,100000] [--queries 400]
 */
import { parseArgs } from 'node:util';
import { MessageIndex, type IndexedMessage } from '../src/lib/client/search-index';
import { integerOption } from './lib/options';
import { summarize, table } from './lib/stats';

const WORDS = (
	'the a to and of in is it you that for on with this be are at have not we can will do so just ' +
	'meeting tomorrow dinner tonight train station coffee morning weekend holiday birthday present ' +
	'project deadline report budget invoice contract lawyer doctor appointment pharmacy garden ' +
	'kitchen window bicycle mountain river concert tickets airport passport hotel booking museum ' +
	'café crème brûlée déjà naïve résumé über straße 東京 привет مرحبا ' +
	'remember forgot sorry thanks great perfect maybe later soon yesterday monday friday'
).split(' ');

/** A deterministic generator, so that every run indexes the same history. */
function random(seed: number): () => number {
	let s = seed >>> 0;
	return () => {
		s = (s * 1664525 + 1013904223) >>> 0;
		return s / 2 ** 32;
	};
}

function history(count: number): IndexedMessage[] {
	const next = random(42);
	const messages: IndexedMessage[] = [];
	for (let i = 0; i < count; i++) {
		const length = 3 + Math.floor(next() * 25);
		const words: string[] = [];
		for (let w = 0; w < length; w++) words.push(WORDS[Math.floor(next() ** 1.6 * WORDS.length)]);
		messages.push({
			id: `m${i.toString().padStart(7, '0')}`,
			peer: `peer${i % 20}`,
			order: 1_800_000_000_000 + i * 1000,
			text: words.join(' '),
		});
	}
	return messages;
}

const QUERIES = [
	'dinner',
	'train station',
	'passport hotel',
	'tick',
	'birthd',
	'apointment',
	'deadline report',
	'cafe',
	'strasse',
	'東京',
	'mountain river concert',
	'the',
	'xylophone',
];

function heapMiB(): number {
	globalThis.gc?.();
	return process.memoryUsage().heapUsed / 1024 / 1024;
}

const { values } = parseArgs({
	options: {
		sizes: { type: 'string', default: '1000,10000,100000' },
		queries: { type: 'string', default: '400' },
	},
});
const sizes = values.sizes.split(',').map((s) => integerOption('sizes', s, 1, 2_000_000));
const queryCount = integerOption('queries', values.queries, 1, 100_000);

const rows: (string | number)[][] = [
	['messages', 'build ms', 'query p50 ms', 'query p99 ms', 'max ms', 'heap MiB', 'hits "dinner"'],
];
for (const size of sizes) {
	const messages = history(size);
	const before = heapMiB();
	const index = new MessageIndex();
	const started = performance.now();
	for (const m of messages) index.put(m);
	const buildMs = performance.now() - started;
	const heap = heapMiB() - before;
	const samples: number[] = [];
	for (let i = 0; i < queryCount; i++) {
		const query = QUERIES[i % QUERIES.length];
		const t = performance.now();
		index.search(query, 100);
		samples.push(performance.now() - t);
	}
	const latency = summarize(samples);
	rows.push([
		String(size),
		buildMs,
		latency.p50,
		latency.p99,
		latency.max,
		heap,
		String(index.search('dinner', 100).length),
	]);
	// The history and its index go before the next size is measured.
	index.clear();
}
console.log(table(rows));
