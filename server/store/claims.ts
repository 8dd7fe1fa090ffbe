import { isDuplicateKey, type ClaimDoc, type Models } from './models';

export interface ClaimRecord {
	key: string;
	outcome: string;
	owner: string;
	at: number;
}

/**
 * Exactly-once decisions shared by every hub: the first insert of a key wins, on MongoDB and
 * FerretDB alike (a unique-index insert, never an update). The time-lock scheduler claims
 * `settle:<envelope id>` with the outcome "released" or "cancelled".
 */
export interface ClaimsRepo {
	/** True when this call won the claim; false when someone already holds it. */
	claim(record: ClaimRecord): Promise<boolean>;
	get(key: string): Promise<ClaimRecord | null>;
	deleteMany(keys: string[]): Promise<void>;
}

export function claimsRepo(models: Models): ClaimsRepo {
	return {
		async claim(record) {
			try {
				await models.claims.create({
					_id: record.key,
					outcome: record.outcome,
					owner: record.owner,
					at: record.at,
				});
				return true;
			} catch (error) {
				if (isDuplicateKey(error)) return false;
				throw error;
			}
		},
		async get(key) {
			const doc = await models.claims.findById(key).lean<ClaimDoc>();
			return doc ? { key: doc._id, outcome: doc.outcome, owner: doc.owner, at: doc.at } : null;
		},
		async deleteMany(keys) {
			if (keys.length > 0) await models.claims.deleteMany({ _id: { $in: keys } });
		},
	};
}
