import { isDuplicateKey, type Models, type SecondFactorDoc } from './models';

export interface SecondFactorRecord {
	username: string;
	/** `pending` between setup and the first valid code; only `enabled` is asked at sign-in. */
	state: 'pending' | 'enabled';
	sealedSecret: string;
	recoveryHashes: string[];
	createdAt: number;
	enabledAt: number | null;
}

export interface SecondFactorsRepo {
	get(username: string): Promise<SecondFactorRecord | null>;
	/** Starts (or restarts) setup: a pending secret replaces any earlier pending one. */
	putPending(username: string, sealedSecret: string, now: number): Promise<void>;
	/** Turns the pending factor on with these recovery codes; false when nothing was pending. */
	enable(username: string, recoveryHashes: string[], now: number): Promise<boolean>;
	/** Removes the factor and every spent code of the user. */
	remove(username: string): Promise<void>;
	/**
	 * Spends a TOTP step or a recovery code: true for its first use only (a unique-id insert, so
	 * two sign-ins racing with the same code cannot both win).
	 */
	spend(
		username: string,
		use: { kind: 'totp'; step: number } | { kind: 'recovery'; hash: string },
		now: number,
	): Promise<boolean>;
	/** The latest TOTP step this user spent, or null. */
	lastStep(username: string): Promise<number | null>;
	/** The recovery code hashes this user spent. */
	spentRecovery(username: string): Promise<string[]>;
	/** Forgets spent TOTP steps before `step` (older than any code the hub still accepts). */
	forgetStepsBefore(username: string, step: number): Promise<void>;
}

export function secondFactorsRepo(models: Models): SecondFactorsRepo {
	return {
		async get(username) {
			const doc = await models.secondFactors.findById(username).lean<SecondFactorDoc>();
			if (!doc) return null;
			return {
				username: doc._id,
				state: doc.state,
				sealedSecret: doc.sealedSecret,
				recoveryHashes: [...doc.recoveryHashes],
				createdAt: doc.createdAt,
				enabledAt: doc.enabledAt,
			};
		},
		async putPending(username, sealedSecret, now) {
			await models.secondFactors.updateOne(
				{ _id: username, state: 'pending' },
				{ $set: { sealedSecret, recoveryHashes: [], createdAt: now, enabledAt: null } },
			);
			const exists = await models.secondFactors.exists({ _id: username });
			if (exists) return;
			try {
				await models.secondFactors.create({
					_id: username,
					state: 'pending',
					sealedSecret,
					recoveryHashes: [],
					createdAt: now,
					enabledAt: null,
				});
			} catch (error) {
				if (!isDuplicateKey(error)) throw error;
			}
		},
		async enable(username, recoveryHashes, now) {
			const result = await models.secondFactors.updateOne(
				{ _id: username, state: 'pending' },
				{ $set: { state: 'enabled', recoveryHashes, enabledAt: now } },
			);
			return result.modifiedCount === 1;
		},
		async remove(username) {
			await models.secondFactors.deleteOne({ _id: username });
			await models.secondFactorUses.deleteMany({ username });
		},
		async spend(username, use, now) {
			const id = use.kind === 'totp' ? `totp:${username}:${use.step}` : `recovery:${username}:${use.hash}`;
			try {
				await models.secondFactorUses.create({
					_id: id,
					username,
					kind: use.kind,
					step: use.kind === 'totp' ? use.step : 0,
					at: now,
				});
				return true;
			} catch (error) {
				if (isDuplicateKey(error)) return false;
				throw error;
			}
		},
		async lastStep(username) {
			const uses = await models.secondFactorUses.find({ username, kind: 'totp' }).lean<{ step: number }[]>();
			return uses.length === 0 ? null : Math.max(...uses.map((use) => use.step));
		},
		async spentRecovery(username) {
			const uses = await models.secondFactorUses
				.find({ username, kind: 'recovery' })
				.lean<{ _id: string }[]>();
			const prefix = `recovery:${username}:`;
			return uses.map((use) => use._id.slice(prefix.length));
		},
		async forgetStepsBefore(username, step) {
			await models.secondFactorUses.deleteMany({ username, kind: 'totp', step: { $lt: step } });
		},
	};
}
