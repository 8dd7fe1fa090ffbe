import type { Models } from './models';

/**
 * What one user leaves stored, counted from the envelopes themselves (no counter document: see
 * DESIGN.md). Read once per sender and pair by the quota service, not on every send: on the
 * embedded database each of these is a scan of the envelopes with that sender.
 */
export interface UsageRepo {
	/** Envelopes from `from` to `to` still stored without a receipt: live, released or locked. */
	undelivered(from: string, to: string): Promise<number>;
	/**
	 * Bytes of ciphertext of every envelope `from` sent that is still stored (their `size`), and of
	 * their files.
	 */
	storedBytes(from: string): Promise<number>;
	/**
	 * What `from` has stored for `to`, delivered or not (cancelled ones aside): the envelopes and
	 * their bytes of ciphertext. Read for a sender who is not the recipient's contact, whose few
	 * envelopes (LIMITS.requestEnvelopesMax) make it small.
	 */
	storedFor(from: string, to: string): Promise<{ envelopes: number; bytes: number }>;
}

export function usageRepo(models: Models): UsageRepo {
	return {
		async undelivered(from, to) {
			// Equality filters only, which the embedded engine sends down to its backend.
			const [settled, cancelled, locked, receipts] = await Promise.all([
				models.envelopes.countDocuments({ from, to }),
				models.envelopes.countDocuments({ from, to, state: 'cancelled' }),
				models.locked.countDocuments({ from, to }),
				models.receipts.countDocuments({ from, to }),
			]);
			// A locked copy may outlive its decision briefly: the count errs on the high side.
			return Math.max(0, settled - cancelled + locked - receipts);
		},
		async storedBytes(from) {
			// Summed where the envelopes are: no ciphertext crosses to the hub. The embedded engine sends
			// the `from` equality down (an index) and adds up in its own code; `$sum` of a field works
			// there (`$sum: 1` and `$cond` do not, in FerretDB 1.24).
			const sum = async (model: typeof models.envelopes) => {
				const [row] = await model
					.aggregate<{ bytes: number }>([
						{ $match: { from } },
						{ $group: { _id: null, bytes: { $sum: '$size' } } },
					])
					.exec();
				return row?.bytes ?? 0;
			};
			const [settled, locked, files] = await Promise.all([
				sum(models.envelopes),
				sum(models.locked),
				models.files.find({ owner: from }, { _id: 0, size: 1 }).lean<{ size: number }[]>(),
			]);
			return files.reduce((total, f) => total + f.size, settled + locked);
		},
		async storedFor(from, to) {
			const [settled, locked] = await Promise.all([
				models.envelopes
					.find({ from, to }, { _id: 0, ciphertext: 1, state: 1 })
					.lean<{ ciphertext: string; state: string }[]>(),
				models.locked
					.find({ from, to }, { _id: 0, ciphertext: 1, state: 1 })
					.lean<{ ciphertext: string; state: string }[]>(),
			]);
			const kept = [...settled, ...locked].filter((d) => d.state !== 'cancelled');
			return {
				envelopes: kept.length,
				bytes: kept.reduce((n, d) => n + base64urlBytes(d.ciphertext), 0),
			};
		},
	};
}

/** Bytes encoded by unpadded base64url text (the protocol's encoding). */
export function base64urlBytes(text: string): number {
	return Math.floor((text.length * 3) / 4);
}
