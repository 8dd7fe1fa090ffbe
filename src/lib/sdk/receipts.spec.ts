import { describe, expect, it } from 'vitest';
import { LIMITS, ProtocolError } from '../protocol';
import type { Messenger } from './messenger';
import { Receipts } from './receipts';

/** The two things Receipts uses of a Messenger: whether the socket is up, and the receipt call. */
function hub(options: { failFirst?: number } = {}) {
	const calls: string[][] = [];
	let failures = options.failFirst ?? 0;
	const messenger = {
		socket: { connected: true },
		async receipt(ids: string[]) {
			calls.push(ids);
			if (failures > 0) {
				failures--;
				throw new ProtocolError('UNAVAILABLE', 'no answer');
			}
		},
	};
	return { calls, messenger, receipts: new Receipts(messenger as unknown as Messenger) };
}

describe('Receipts', () => {
	it('sends ids queued while a call is in flight together, in one more call', async () => {
		const { calls, receipts } = hub();
		const first = receipts.add(['a']);
		void receipts.add(['b', 'c']);
		void receipts.add(['c', 'd']);
		await first;
		expect(calls).toEqual([['a'], ['b', 'c', 'd']]);
		expect(receipts.pending).toBe(0);
	});

	it('keeps the ids of a failed call and sends them on the next flush', async () => {
		const { calls, receipts } = hub({ failFirst: 1 });
		await receipts.add(['a', 'b']);
		expect(receipts.pending).toBe(2);
		await receipts.flush();
		expect(calls).toEqual([
			['a', 'b'],
			['a', 'b'],
		]);
		expect(receipts.pending).toBe(0);
	});

	it('waits while the socket is down, and splits what exceeds one receipt', async () => {
		const { calls, messenger, receipts } = hub();
		messenger.socket.connected = false;
		const ids = Array.from({ length: LIMITS.receiptIdsMax + 3 }, (_, i) => `id${i}`);
		await receipts.add(ids);
		expect(calls).toEqual([]);
		messenger.socket.connected = true;
		await receipts.flush();
		expect(calls.map((c) => c.length)).toEqual([LIMITS.receiptIdsMax, 3]);
	});
});
