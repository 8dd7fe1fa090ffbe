import { fromB64, verifyDeletion } from '../../src/lib/crypto';
import {
	ProtocolError,
	type DeleteRequest,
	type DeleteResult,
	type StoredEnvelope,
	type Tombstone,
} from '../../src/lib/protocol';
import type { HubConfig } from '../config';
import type { Store } from '../store';
import type { Notifier } from './notify';
import type { Timelocks } from './timelock';

export interface DeleteOutcome {
	result: DeleteResult;
	/** Tells the devices of both parties, once the deletion is acknowledged. */
	tell: () => void;
}

/**
 * Delete for everyone. The sender's signed request turns the hub's settled copy into a tombstone
 * (its ciphertext gone) placed at the deletion in both parties' sync orders, so offline devices
 * learn of it at their next sync and live ones at once. A message still time-locked is cancelled
 * instead, through the time-lock's own decision (its unique insert), so it is never delivered.
 */
export class TakebackService {
	constructor(
		private readonly store: Store,
		private readonly config: HubConfig,
		private readonly now: () => number,
		private readonly notify: Notifier,
		private readonly timelocks: Timelocks,
	) {}

	async deleteForEveryone(username: string, request: DeleteRequest): Promise<DeleteOutcome> {
		const envelope = await this.store.envelopes.get(request.id);
		if (!envelope) {
			// Deleted before (a retry): the same answer again, for its sender only.
			const tombstone = await this.store.envelopes.tombstone(request.id);
			if (tombstone && tombstone.from === username) return this.#deleted(tombstone);
			throw notFound();
		}
		this.#authorize(envelope, username);
		if (this.now() - envelope.storedAt > this.config.deleteWindowMs) {
			throw new ProtocolError(
				'DELETE_WINDOW_PASSED',
				`A message can be deleted for everyone only within ${Math.round(this.config.deleteWindowMs / 3_600_000)} hours of sending.`,
			);
		}
		const users = await this.store.users.get(username);
		if (!users || !verifyDeletion(envelope, request.signature, fromB64(users.identity.signPk))) {
			throw new ProtocolError('BAD_SIGNATURE', "The signature is not the sender's over this deletion.");
		}
		if (envelope.state === 'locked') {
			try {
				const { tell } = await this.timelocks.cancel(username, envelope.id);
				return { result: { id: envelope.id, outcome: 'cancelled' }, tell };
			} catch (error) {
				// Released meanwhile: delete the delivered copy like any other.
				if (!(error instanceof ProtocolError && error.code === 'ALREADY_RELEASED')) throw error;
			}
		}
		const tombstone = await this.store.envelopes.markDeleted(
			envelope.id,
			username,
			this.now(),
			request.signature,
		);
		if (tombstone) {
			// The file it carries goes with its text: nobody can fetch it any more.
			await this.store.files.deleteFilesOf([tombstone.id]);
			return this.#deleted(tombstone);
		}
		const again = await this.store.envelopes.tombstone(envelope.id);
		if (again) return this.#deleted(again);
		// Still locked (a release that has not landed yet) or cancelled: nothing to delete now.
		throw new ProtocolError('NOT_CANCELLABLE', 'This message cannot be deleted right now; try again.');
	}

	/** The sender may delete; the recipient is refused; anyone else, or a recipient of a message they may not know of, is told nothing exists. */
	#authorize(envelope: StoredEnvelope, username: string): void {
		if (envelope.from === username) {
			if (envelope.state === 'cancelled') throw notFound();
			return;
		}
		const known =
			envelope.to === username &&
			(envelope.state === 'live' || envelope.state === 'released' || envelope.announce);
		if (!known) throw notFound();
		throw new ProtocolError('FORBIDDEN', 'Only its sender can delete a message for everyone.');
	}

	#deleted(tombstone: Tombstone): DeleteOutcome {
		return {
			result: { id: tombstone.id, outcome: 'deleted' },
			tell: () => this.notify.deleted(tombstone),
		};
	}
}

function notFound(): ProtocolError {
	return new ProtocolError('NOT_FOUND', 'No such message.');
}
