import { describe, expect, it, vi } from 'vitest';
import type { Envelope } from '../../src/lib/protocol';
import type { HubConfig } from '../config';
import type { Store, UsageRepo } from '../store';
import { QuotaService } from './quota';

const FAIRNESS: HubConfig['fairness'] = {
	undeliveredPerRecipient: 3,
	storedBytesPerUser: 1_000,
	sendsPerSecond: 100,
	sendBurst: 100,
	requestEnvelopesMax: 10,
	requestBytesMax: 10_000,
};

function service(usage: Pick<UsageRepo, 'undelivered' | 'storedBytes'>, firstReadWaitMs?: number) {
	const store = {
		usage: { ...usage, storedFor: () => Promise.resolve({ envelopes: 0, bytes: 0 }) },
		envelopes: { get: () => Promise.resolve(null) },
	} as unknown as Store;
	return new QuotaService(store, { fairness: FAIRNESS } as HubConfig, () => 0, firstReadWaitMs);
}

let nextId = 0;
/** An envelope from alice to bob of `bytes` bytes of ciphertext (base64url, 4 characters per 3 bytes). */
function envelope(bytes: number): Envelope {
	return {
		id: `e${nextId++}`,
		from: 'alice',
		to: 'bob',
		ciphertext: 'A'.repeat((bytes / 3) * 4),
	} as Envelope;
}

const stores = () => Promise.resolve(true);

describe('QuotaService', () => {
	it('gives back the bytes it took when the count for the recipient refuses', async () => {
		const quota = service({ undelivered: () => Promise.resolve(3), storedBytes: () => Promise.resolve(950) });
		await expect(quota.charged(envelope(30), stores)).rejects.toMatchObject({ code: 'QUOTA_UNDELIVERED' });
		// 950 + 30 fit the 1,000 bytes: had the refused send kept its 30, this one (950 + 30 + 30) would not.
		quota.delivered('bob', [{ from: 'alice' }, { from: 'alice' }, { from: 'alice' }]);
		await expect(quota.charged(envelope(30), stores)).resolves.toBe(true);
	});

	it('gives back the place it took for the recipient when the stored bytes refuse', async () => {
		const quota = service({ undelivered: () => Promise.resolve(2), storedBytes: () => Promise.resolve(990) });
		await expect(quota.charged(envelope(30), stores)).rejects.toMatchObject({ code: 'QUOTA_STORAGE' });
		// The refused send's place was given back: 2 wait, so one more fits the 3.
		await expect(quota.charged(envelope(3), stores)).resolves.toBe(true);
		await expect(quota.charged(envelope(3), stores)).rejects.toMatchObject({ code: 'QUOTA_UNDELIVERED' });
	});

	it('fails the send when a read fails, keeping nothing of the other', async () => {
		let fail = true;
		const quota = service({
			undelivered: () => Promise.resolve(2),
			storedBytes: () => (fail ? Promise.reject(new Error('database gone')) : Promise.resolve(0)),
		});
		await expect(quota.charged(envelope(30), stores)).rejects.toThrow('database gone');
		fail = false;
		// The failed send's place for bob was given back: one more of the 3 fits, then no more.
		await expect(quota.charged(envelope(30), stores)).resolves.toBe(true);
		await expect(quota.charged(envelope(30), stores)).rejects.toMatchObject({ code: 'QUOTA_UNDELIVERED' });
	});

	it('lets a first send through on trust while a slow first reading runs, up to the burst, then counts it in', async () => {
		let land: (count: number) => void = () => undefined;
		const reading = new Promise<number>((resolve) => (land = resolve));
		const quota = service({ undelivered: () => reading, storedBytes: () => Promise.resolve(0) }, 5);
		// The reading has not landed: three sends (the limit, below the burst) go through without it.
		for (let i = 0; i < 3; i++) await expect(quota.charged(envelope(3), stores)).resolves.toBe(true);
		// A fourth would pass what may go on trust: it waits for the reading, which says 2 were there.
		const fourth = quota.charged(envelope(3), stores);
		land(2);
		// 2 read + the 3 let through: refused on the reading, not on trust.
		await expect(fourth).rejects.toMatchObject({ code: 'QUOTA_UNDELIVERED' });
	});

	it('waits for a first reading that lands in time, so a refusal at the limit stays exact', async () => {
		const quota = service(
			{
				undelivered: () => new Promise((resolve) => setTimeout(() => resolve(3), 20)),
				storedBytes: () => Promise.resolve(0),
			},
			1_000,
		);
		await expect(quota.charged(envelope(3), stores)).rejects.toMatchObject({ code: 'QUOTA_UNDELIVERED' });
	});

	it('waits once per send for both slow first readings, and later sends not at all', async () => {
		vi.useFakeTimers();
		try {
			const never = () => new Promise<number>(() => undefined);
			const quota = service({ undelivered: never, storedBytes: never }, 1_000);
			let settled = false;
			const first = quota.charged(envelope(3), stores).finally(() => (settled = true));
			await vi.advanceTimersByTimeAsync(999);
			expect(settled).toBe(false);
			// One second for both readings together, not one each.
			await vi.advanceTimersByTimeAsync(1);
			await expect(first).resolves.toBe(true);
			// The counts are known to be slow: no timer to wait for (with fake timers, a wait would hang).
			await expect(quota.charged(envelope(3), stores)).resolves.toBe(true);
		} finally {
			vi.useRealTimers();
		}
	});
});
