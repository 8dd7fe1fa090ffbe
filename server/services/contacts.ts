import { LIMITS, ProtocolError, type Contact, type ContactState } from '../../src/lib/protocol';
import type { Store } from '../store';
import type { Notifier } from './notify';
import type { Timelocks } from './timelock';

/**
 * Each user's contacts and blocks. Whose list it is comes from the session (`owner`), never from a
 * payload. Every change is pushed to the owner's devices on every hub (`contacts:changed`), which
 * move conversations between the chat list and the requests accordingly.
 */
export class ContactService {
	constructor(
		private readonly store: Store,
		private readonly notify: Notifier,
		private readonly timelocks: Timelocks,
		private readonly now: () => number,
	) {}

	list(owner: string): Promise<Contact[]> {
		return this.store.contacts.list(owner, LIMITS.contactsMax);
	}

	/**
	 * Accepts or adds (`accepted`) or blocks (`blocked`) `peer`. Blocking someone who was not a
	 * contact declines their request too: what they left stored for `owner` is deleted.
	 */
	async set(owner: string, peer: string, state: ContactState): Promise<Contact> {
		await this.#checkPeer(owner, peer);
		const previous = await this.store.contacts.relation(owner, peer);
		if (!previous && (await this.store.contacts.count(owner)) >= LIMITS.contactsMax) {
			throw new ProtocolError('FORBIDDEN', `An account keeps at most ${LIMITS.contactsMax} contacts.`);
		}
		const contact = await this.store.contacts.put(owner, peer, state, this.now());
		const cleared = state === 'blocked' && previous?.state !== 'accepted';
		if (cleared) await this.#deleteStored(peer, owner);
		this.notify.contactChanged(owner, { username: peer, state, since: contact.since, cleared });
		return contact;
	}

	/** Removes a contact or lifts a block: `peer` is a stranger again. */
	async remove(owner: string, peer: string): Promise<boolean> {
		await this.#checkPeer(owner, peer);
		const removed = await this.store.contacts.remove(owner, peer);
		if (removed) {
			this.notify.contactChanged(owner, { username: peer, state: null, since: this.now(), cleared: false });
		}
		return removed;
	}

	/**
	 * Declines `peer`'s request: deletes every envelope they left stored for `owner` and any relation
	 * but a block (a declined sender may write again, as a new request; a blocked one stays blocked).
	 */
	async decline(owner: string, peer: string): Promise<number> {
		await this.#checkPeer(owner, peer);
		const previous = await this.store.contacts.relation(owner, peer);
		if (previous?.state === 'accepted') await this.store.contacts.remove(owner, peer);
		const deleted = await this.#deleteStored(peer, owner);
		this.notify.contactChanged(owner, {
			username: peer,
			state: previous?.state === 'blocked' ? 'blocked' : null,
			since: this.now(),
			cleared: true,
		});
		return deleted;
	}

	async #deleteStored(from: string, to: string): Promise<number> {
		const { deleted, lockedIds } = await this.store.envelopes.deleteFromTo(from, to);
		this.timelocks.removed(lockedIds);
		return deleted;
	}

	async #checkPeer(owner: string, peer: string): Promise<void> {
		if (peer === owner) throw new ProtocolError('BAD_REQUEST', 'That is you: pick someone else.');
		if (!(await this.store.users.get(peer))) throw new ProtocolError('NOT_FOUND', 'No user has this name.');
	}
}
