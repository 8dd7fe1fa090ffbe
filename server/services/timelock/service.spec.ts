import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { StoredEnvelope } from '../../../src/lib/protocol';
import type { Store } from '../../store';
import type { Notifier } from '../notify';
import { HubPeers } from './peers';
import { TimelockService } from './service';

const T0 = 1_700_000_000_000;

function locked(id: string): StoredEnvelope {
	return {
		id,
		from: 'alice',
		to: 'bob',
		sentAt: T0 - 60_000,
		unlockAt: T0 - 1,
		kind: 'text',
		nonce: 'n',
		ciphertext: 'c',
		signature: 's',
		state: 'locked',
		storedAt: T0 - 60_000,
		releasedAt: null,
		syncKey: `k-${id}`,
	} as StoredEnvelope;
}

/** Lets promise callbacks run. */
const settle = async () => {
	for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
};

/**
 * A store whose release inserts wait on a gate of their own, and that records each removal of
 * locked copies with how many release inserts were running at that moment.
 */
function harness() {
	const gates = new Map<string, () => void>();
	let insertsRunning = 0;
	const removals: { ids: string[]; insertsRunning: number }[] = [];
	const store = {
		envelopes: {
			async release(batch: StoredEnvelope[], releasedAt: number) {
				insertsRunning += 1;
				await new Promise<void>((resolve) => gates.set(batch[0].id, resolve));
				insertsRunning -= 1;
				return { released: batch.map((e) => ({ ...e, state: 'released', releasedAt })), decided: [] };
			},
			async removeLocked(ids: string[]) {
				removals.push({ ids, insertsRunning });
			},
			async lockedMany() {
				return [];
			},
		},
	} as unknown as Store;
	const service = new TimelockService({
		store,
		notify: { messageNew() {} } as unknown as Notifier,
		now: () => T0,
		logger: pino({ level: 'silent' }),
		peers: new HubPeers('hub-a', () => T0),
	});
	return { service, gates, removals };
}

describe('TimelockService', () => {
	it('removes released locks’ copies only once no release insert is running', async () => {
		const h = harness();
		for (const id of ['a', 'b']) h.service.remember(locked(id));
		const first = h.service.release(['a']);
		const second = h.service.release(['b']);
		await settle();
		expect([...h.gates.keys()]).toEqual(['a', 'b']);

		// The first release is stored: its copy waits while the second insert runs.
		h.gates.get('a')?.();
		await first;
		await settle();
		expect(h.removals).toEqual([]);

		h.gates.get('b')?.();
		await second;
		await settle();
		expect(h.removals.flatMap((r) => r.ids).sort()).toEqual(['a', 'b']);
		expect(h.removals.every((r) => r.insertsRunning === 0)).toBe(true);
		await h.service.settle();
	});
});
