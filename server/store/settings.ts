import { isDuplicateKey, type Models, type SettingDoc } from './models';

export interface SettingsRepo {
	/**
	 * The stored value, or `create()`'s if none exists yet. Insert-if-absent: when several hubs
	 * start together, the first insert wins and every hub reads the same value.
	 */
	getOrCreate(id: string, create: () => string): Promise<string>;
	/** The stored value, or null. */
	get(id: string): Promise<string | null>;
	/** Stores `value` under `id`, replacing any. */
	set(id: string, value: string): Promise<void>;
}

export function settingsRepo(models: Models): SettingsRepo {
	return {
		async getOrCreate(id, create) {
			const existing = await models.settings.findById(id).lean<SettingDoc>();
			if (existing) return existing.value;
			try {
				const value = create();
				await models.settings.create({ _id: id, value });
				return value;
			} catch (error) {
				if (!isDuplicateKey(error)) throw error;
			}
			const winner = await models.settings.findById(id).lean<SettingDoc>();
			if (!winner) throw new Error(`settings: ${id} vanished after a duplicate insert`);
			return winner.value;
		},
		async get(id) {
			return (await models.settings.findById(id).lean<SettingDoc>())?.value ?? null;
		},
		async set(id, value) {
			await models.settings.updateOne({ _id: id }, { $set: { value } }, { upsert: true });
		},
	};
}
