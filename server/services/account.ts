import { ProtocolError } from '../../src/lib/protocol';
import type { SessionRecord, Store } from '../store';
import type { AuthService } from './auth';
import type { Timelocks } from './timelock';
import type { TwoFactorService } from './two-factor';

/** A parsed account deletion; whose account comes from the session, never from here. */
export interface AccountDeleteInput {
	authKey: string;
	code?: string;
}

/**
 * Deleting an account. The password is checked first (a wrong one is INVALID_CREDENTIALS), then,
 * with two-factor authentication on, a code (INVALID_TOTP when wrong, TOTP_REQUIRED when missing):
 * the caller runs this through the sign-in throttle, which counts both wrong answers.
 */
export class AccountService {
	constructor(
		private readonly store: Store,
		private readonly auth: AuthService,
		private readonly twoFactor: TwoFactorService,
		private readonly timelocks: Timelocks,
	) {}

	/**
	 * Removes the user's document (keys and key backup) first, so the name signs in as an unknown
	 * one from then on; then the second factor, the envelopes waiting for them and the locked ones
	 * they sent, the receipts of what they sent, their contacts (and others' relations with them), and every session, marked ended on every hub before
	 * this resolves. Returns the ended sessions' ids: the caller ends their sockets.
	 */
	async delete(session: SessionRecord, input: AccountDeleteInput): Promise<string[]> {
		const user = await this.auth.verifyPassword(session.username, input.authKey);
		if (await this.twoFactor.isEnabled(user.username)) {
			if (input.code === undefined) {
				throw new ProtocolError(
					'TOTP_REQUIRED',
					'Enter the 6-digit code from your authenticator app, or a recovery code.',
				);
			}
			await this.twoFactor.check(user.username, input.code);
		}
		if (!(await this.store.users.delete(user.username))) {
			throw new ProtocolError('UNAUTHENTICATED', 'This account no longer exists.');
		}
		await this.store.secondFactors.remove(user.username);
		const lockedIds = await this.store.envelopes.deleteForAccount(user.username);
		this.timelocks.removed(lockedIds);
		await this.store.files.deleteForAccount(user.username, lockedIds);
		await this.store.receipts.deleteForSender(user.username);
		await this.store.activity.deleteUser(user.username);
		await this.store.contacts.deleteForAccount(user.username);
		await this.store.push.deleteByUser(user.username);
		const sessionIds = await this.store.sessions.idsOfUser(user.username);
		await this.store.sessions.deleteMany(sessionIds);
		await this.auth.ended(sessionIds, 'account-deleted');
		return sessionIds;
	}
}
