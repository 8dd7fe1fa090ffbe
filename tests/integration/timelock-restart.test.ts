import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StoredEnvelope } from '../../src/lib/protocol';
import { call } from '../../src/lib/sdk';
import { freePort } from '../../server/net';
import { type TestDb, openTestDb } from '../helpers/db';
import { startHubProcess, testDatabaseUri, type HubProcess } from '../helpers/hub';
import { newUser, uniqueName, waitForConnect, waitForEvent, type TestClient } from '../helpers/users';

/** Waits until the hub's clock has passed `t` (the scenario is about time passing while no hub runs). */
function until(t: number): Promise<void> {
	return new Promise((done) => setTimeout(done, Math.max(0, t - Date.now())));
}

const children: HubProcess[] = [];
const clients: TestClient[] = [];
let db: TestDb | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'hourglass-timelock-restart-'));

afterAll(async () => {
	for (const client of clients) client.close();
	for (const child of children) await child.kill('SIGKILL');
	await db?.close();
	rmSync(dataDir, { recursive: true, force: true });
});

describe('a hub killed while messages are locked', () => {
	it('delivers every one of them once after a restart past their unlock, none twice', async () => {
		const mongoUri = testDatabaseUri('timelock_restart');
		const port = await freePort();
		const hub = { mongoUri, env: { PORT: String(port), STATIC_DIR: join(dataDir, 'no-pwa') } };
		const first = await startHubProcess(hub);
		children.push(first);
		const alice = await newUser(first.url, uniqueName('alice'));
		const bob = await newUser(first.url, uniqueName('bob'));
		clients.push(alice, bob);
		const heard: StoredEnvelope[] = [];
		bob.socket.on('message:new', (envelope) => heard.push(envelope));

		const base = Date.now() + 3_000;
		const sent: { id: string; text: string; unlockAt: number }[] = [];
		for (let i = 0; i < 12; i += 1) {
			const unlockAt = base + i * 100;
			const text = `locked ${i}`;
			const { envelope, result } = await alice.messenger.send(bob.username, text, {
				unlockAt,
				announce: i % 2 === 0,
			});
			expect(result.state).toBe('locked');
			sent.push({ id: envelope.id, text, unlockAt });
		}
		// A message that is due only after the restart is handled by the scheduler, not the catch-up.
		const later = await alice.messenger.send(bob.username, 'after the restart', { unlockAt: base + 12_000 });
		expect(Date.now()).toBeLessThan(base);

		await first.kill('SIGKILL');
		expect(heard).toEqual([]);

		// No hub runs while the messages fall due.
		await until(base + 12 * 100 + 1_000);
		const second = await startHubProcess(hub);
		children.push(second);
		expect(second.url).toBe(first.url);
		// bob's socket.io client reconnects by itself; sync then fills in what went out while it was away.
		await waitForConnect(bob.socket, 20_000);
		const ids = sent.map((s) => s.id);
		let synced = (await bob.messenger.syncAll(null)).messages.filter((m) => ids.includes(m.id));
		// The catch-up may still be under way when bob reconnects: what it releases next comes live.
		for (let round = 0; round < ids.length && synced.length < ids.length; round += 1) {
			await waitForEvent(bob.socket, 'message:new', (e) => ids.includes(e.id), 2_000).catch(() => undefined);
			synced = (await bob.messenger.syncAll(null)).messages.filter((m) => ids.includes(m.id));
		}
		expect(synced.map((m) => m.id).sort()).toEqual([...ids].sort());
		for (const message of synced) {
			const original = sent.find((s) => s.id === message.id);
			expect(message).toMatchObject({ state: 'released', text: original?.text, problem: null });
			expect(message.releasedAt).toBeGreaterThanOrEqual(base + 12 * 100 + 1_000);
		}
		for (const id of ids) expect(heard.filter((e) => e.id === id).length).toBeLessThanOrEqual(1);

		const conn = await openTestDb(mongoUri);
		db = conn;
		expect(
			await conn.collection('envelopes').countDocuments({ _id: { $in: ids as never[] }, state: 'released' }),
		).toBe(ids.length);
		await expect
			.poll(() => conn.collection('locked_envelopes').countDocuments({ _id: { $in: ids as never[] } }), {
				timeout: 10_000,
			})
			.toBe(0);

		// The restarted hub's scheduler still releases what falls due later, live, once.
		const live = waitForEvent(bob.socket, 'message:new', (e) => e.id === later.envelope.id, 20_000);
		await waitForConnect(alice.socket, 20_000);
		expect((await call(alice.socket, 'timelock:list', {})).items.map((e) => e.id)).toEqual([
			later.envelope.id,
		]);
		expect(await live).toMatchObject({ state: 'released' });
		expect(heard.filter((e) => e.id === later.envelope.id)).toHaveLength(1);
		for (const id of ids) expect(heard.filter((e) => e.id === id).length).toBeLessThanOrEqual(1);
	});
});
