import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/lib/protocol';
import { startTestHub, type TestHub } from '../helpers/hub';

let hub: TestHub;
const lines: { level: number; msg: string; method?: string; url?: string; status?: number; ms?: number }[] =
	[];

beforeAll(async () => {
	const sink = new Writable({
		write(chunk: Buffer, _encoding, done) {
			for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
			done();
		},
	});
	hub = await startTestHub({ name: 'access_log', logger: pino({ level: 'debug' }, sink) });
});

afterAll(async () => {
	await hub?.stop();
});

describe('the access log', () => {
	it('writes one line per request, after the reply, at debug', async () => {
		const before = lines.length;
		expect((await fetch(hub.url + ROUTES.health)).status).toBe(200);
		expect((await fetch(hub.url + ROUTES.sessions)).status).toBe(401);
		await expect.poll(() => lines.slice(before).filter((l) => l.msg === 'request').length).toBe(2);
		const requests = lines.slice(before).filter((l) => l.msg === 'request');
		expect(requests.map((l) => [l.level, l.method, l.url, l.status])).toEqual([
			[20, 'GET', ROUTES.health, 200],
			[20, 'GET', ROUTES.sessions, 401],
		]);
		expect(requests.every((l) => typeof l.ms === 'number')).toBe(true);
		// Fastify's own two lines per request are off.
		expect(lines.some((l) => l.msg === 'incoming request' || l.msg === 'request completed')).toBe(false);
	});
});
