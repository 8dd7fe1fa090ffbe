import type { mongo } from 'mongoose';
import type { Contact, ContactState } from '../../src/lib/protocol';
import { BatchWriter } from './batch-writer';
import type { ContactDoc, Models } from './models';

export interface ContactsRepo {
	/** How `owner` stands with `peer`: one `_id` equality (the send path's one extra read). */
	relation(owner: string, peer: string): Promise<Contact | null>;
	/**
	 * The same, where a recent answer will do (the send path): the hub caches it
	 * (server/services/read-cache.ts); here it is `relation`.
	 */
	recentRelation(owner: string, peer: string): Promise<Contact | null>;
	/** Every relation `owner` keeps, newest first. */
	list(owner: string, limit: number): Promise<Contact[]>;
	count(owner: string): Promise<number>;
	/** Sets `owner`'s relation with `peer` (made or replaced). */
	put(owner: string, peer: string, state: ContactState, since: number): Promise<Contact>;
	/**
	 * Makes `peer` a contact of `owner` unless a relation exists already (a block stays a block).
	 * Grouped with the other adds of the same moment into one insert (BatchWriter). True when added.
	 */
	addIfAbsent(owner: string, peer: string, since: number): Promise<boolean>;
	/** Removes `owner`'s relation with `peer`; true when there was one. */
	remove(owner: string, peer: string): Promise<boolean>;
	/** Every relation of a deleted account: theirs, and others' with them. */
	deleteForAccount(username: string): Promise<void>;
}

export function contactId(owner: string, peer: string): string {
	return `${owner}:${peer}`;
}

export function contactsRepo(models: Models): ContactsRepo {
	const { contacts } = models;
	// The driver's collection for grouped inserts, typed with our string _id.
	const collection = contacts.collection as unknown as mongo.Collection<ContactDoc>;
	const writer = new BatchWriter(collection);
	const relation = async (owner: string, peer: string) => {
		const doc = await collection.findOne({ _id: contactId(owner, peer) });
		return doc ? toContact(doc) : null;
	};
	return {
		relation,
		recentRelation: relation,
		async list(owner, limit) {
			const docs = await contacts.find({ owner }).limit(limit).lean<ContactDoc[]>();
			return docs.map(toContact).sort((a, b) => b.since - a.since);
		},
		count(owner) {
			return contacts.countDocuments({ owner });
		},
		async put(owner, peer, state, since) {
			const doc: ContactDoc = { _id: contactId(owner, peer), owner, peer, state, since };
			// Only the owner's own requests write this document, so no two updates of it race.
			await contacts.replaceOne({ _id: doc._id }, doc, { upsert: true });
			return toContact(doc);
		},
		addIfAbsent(owner, peer, since) {
			return writer.insert({ _id: contactId(owner, peer), owner, peer, state: 'accepted', since });
		},
		async remove(owner, peer) {
			const { deletedCount } = await contacts.deleteOne({ _id: contactId(owner, peer) });
			return deletedCount > 0;
		},
		async deleteForAccount(username) {
			// Equality filters only, which the embedded engine sends down to its backend.
			await Promise.all([contacts.deleteMany({ owner: username }), contacts.deleteMany({ peer: username })]);
		},
	};
}

function toContact(doc: ContactDoc): Contact {
	return { username: doc.peer, state: doc.state, since: doc.since };
}
