import type { KdfParams, KeyBackup, PublicIdentity, UserView } from '../../src/lib/protocol';
import { isDuplicateKey, type Models, type UserDoc } from './models';

export interface UserRecord {
	username: string;
	salt: string;
	kdf: KdfParams;
	authHash: string;
	identity: PublicIdentity;
	keyBackup: KeyBackup;
	createdAt: number;
}

export interface UsersRepo {
	/** Inserts a new user; false when the username is taken (the unique _id decides). */
	insert(user: UserRecord): Promise<boolean>;
	get(username: string): Promise<UserRecord | null>;
	/**
	 * Replaces the salt, KDF, authKey hash and key backup in one update of the user's document, and
	 * only while its hash is still `expectedAuthHash` (so of two changes at once one loses); false
	 * when it did not match. One document write: either the old password works or the new one does.
	 */
	replaceCredentials(
		username: string,
		expectedAuthHash: string,
		next: Pick<UserRecord, 'salt' | 'kdf' | 'authHash' | 'keyBackup'>,
	): Promise<boolean>;
	/** Deletes the user's document (salt, authKey hash, public identity, key backup); false when none. */
	delete(username: string): Promise<boolean>;
}

export function usersRepo(models: Models): UsersRepo {
	return {
		async insert(user) {
			try {
				await models.users.create({
					_id: user.username,
					salt: user.salt,
					kdf: { alg: user.kdf.alg, opslimit: user.kdf.opslimit, memlimit: user.kdf.memlimit },
					authHash: user.authHash,
					identity: { signPk: user.identity.signPk, boxPk: user.identity.boxPk },
					keyBackup: { nonce: user.keyBackup.nonce, ciphertext: user.keyBackup.ciphertext },
					createdAt: user.createdAt,
				});
				return true;
			} catch (error) {
				if (isDuplicateKey(error)) return false;
				throw error;
			}
		},
		async get(username) {
			const doc = await models.users.findById(username).lean<UserDoc>();
			return doc ? toUserRecord(doc) : null;
		},
		async replaceCredentials(username, expectedAuthHash, next) {
			const result = await models.users.updateOne(
				{ _id: username, authHash: expectedAuthHash },
				{
					$set: {
						salt: next.salt,
						kdf: { alg: next.kdf.alg, opslimit: next.kdf.opslimit, memlimit: next.kdf.memlimit },
						authHash: next.authHash,
						keyBackup: { nonce: next.keyBackup.nonce, ciphertext: next.keyBackup.ciphertext },
					},
				},
			);
			return result.matchedCount > 0;
		},
		async delete(username) {
			const result = await models.users.deleteOne({ _id: username });
			return result.deletedCount > 0;
		},
	};
}

function toUserRecord(doc: UserDoc): UserRecord {
	return {
		username: doc._id,
		salt: doc.salt,
		kdf: { alg: 'argon2id13', opslimit: doc.kdf.opslimit, memlimit: doc.kdf.memlimit },
		authHash: doc.authHash,
		identity: { signPk: doc.identity.signPk, boxPk: doc.identity.boxPk },
		keyBackup: { nonce: doc.keyBackup.nonce, ciphertext: doc.keyBackup.ciphertext },
		createdAt: doc.createdAt,
	};
}

export function toUserView(user: UserRecord): UserView {
	return { username: user.username, identity: { signPk: user.identity.signPk, boxPk: user.identity.boxPk } };
}
