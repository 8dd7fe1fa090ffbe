import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendResult } from '../../src/lib/protocol';
import { startTestHub, type TestHub } from '../helpers/hub';
import { newUser, uniqueName, type TestClient } from '../helpers/users';

let hub: TestHub;
let alice: TestClient;
let bob: TestClient;

beforeAll(async () => {
	hub = await startTestHub({ name: 'restart' });
	alice = await newUser(hub.url, uniqueName('alice'));
	bob = await newUser(hub.url, uniqueName('bob'));
});

afterAll(async () => {
	alice?.close();
	bob?.close();
	await hub?.stop();
});

describe('a hub restart', () => {
	it('loses nothing acknowledged between a send and the recipient’s reconnect', async () => {
		const { cursor } = await bob.messenger.syncAll(null);
		bob.socket.close();
		const texts = ['before the restart 1', 'before the restart 2', 'before the restart 3'];
		const acked: SendResult[] = [];
		for (const text of texts) acked.push((await alice.messenger.send(bob.username, text)).result);

		await hub.restart();

		// Same session cookies: the sessions live in the database, not in the hub's memory.
		await bob.reconnect(hub.url);
		const after = await bob.messenger.syncAll(cursor);
		const got = after.messages.filter((m) => acked.some((a) => a.id === m.id));
		expect(got.map((m) => m.text)).toEqual(texts);
		expect(got.map((m) => m.syncKey)).toEqual(acked.map((a) => a.syncKey));
	});

	it('keeps every acknowledged message when the hub stops in the middle of a burst of sends', async () => {
		await alice.reconnect(hub.url);
		await bob.reconnect(hub.url);
		const { cursor } = await bob.messenger.syncAll(null);
		bob.socket.close();

		const envelopes = await Promise.all(
			Array.from({ length: 40 }, (_, i) => alice.messenger.seal(bob.username, `burst ${i}`)),
		);
		const sends = envelopes.map((e) => alice.messenger.sendEnvelope(e, 15_000).then((r) => r.id));
		// Stop as soon as the first acknowledgement arrives, while the rest are in flight.
		await Promise.race(sends);
		const restarted = hub.restart();
		const settled = await Promise.allSettled(sends);
		await restarted;
		const ackedIds = settled.filter((s) => s.status === 'fulfilled').map((s) => s.value);
		expect(ackedIds.length).toBeGreaterThan(0);

		await bob.reconnect(hub.url);
		const after = await bob.messenger.syncAll(cursor);
		const received = new Set(after.messages.map((m) => m.id));
		for (const id of ackedIds) expect(received.has(id)).toBe(true);
		// Whatever was not acknowledged can simply be sent again: stored once either way.
		await alice.reconnect(hub.url);
		for (const envelope of envelopes) await alice.messenger.sendEnvelope(envelope);
		const final = await bob.messenger.syncAll(cursor);
		const burst = final.messages.filter((m) => m.text?.startsWith('burst '));
		expect(burst).toHaveLength(40);
		expect(new Set(burst.map((m) => m.id)).size).toBe(40);
	});
});
