import type { ContactsRepo, PushRepo, PushSubscriptionRecord } from '../store';
import type { Contact } from '../../src/lib/protocol';

/**
 * How long a hub trusts a contact relation or a user's push subscriptions that it read, when no
 * hub has said that they changed: the bound on staleness if such a message between hubs is lost
 * (a Redis restart), the same as for sessions (server/services/auth.ts). Every change made through
 * this hub is seen at once, and other hubs are told of it through the adapter.
 */
export const READ_CACHE_TTL_MS = 5_000;
/** Entries a cache keeps at most; the oldest go first (at 100 bytes or so each, about 10 MB). */
export const READ_CACHE_MAX = 100_000;

/**
 * A read-through cache of small database answers that every message would otherwise read again
 * (`docs/OPERATIONS.md`, "The relay path"). Concurrent misses for a key share one read; an answer
 * read while anything was forgotten is returned but not kept, so a read that raced a change never
 * stores what the change replaced.
 */
export class ReadCache<V> {
	readonly #entries = new Map<string, { value: V; at: number }>();
	readonly #pending = new Map<string, Promise<V>>();
	#changes = 0;

	constructor(
		private readonly now: () => number,
		private readonly ttlMs = READ_CACHE_TTL_MS,
		private readonly max = READ_CACHE_MAX,
	) {}

	get(key: string, read: () => Promise<V>): Promise<V> {
		const hit = this.#entries.get(key);
		if (hit && this.now() - hit.at < this.ttlMs) return Promise.resolve(hit.value);
		const pending = this.#pending.get(key);
		if (pending) return pending;
		const changes = this.#changes;
		const at = this.now();
		const reading = read().then(
			(value) => {
				if (this.#pending.get(key) === reading) this.#pending.delete(key);
				if (changes === this.#changes) this.#keep(key, value, at);
				return value;
			},
			(error: unknown) => {
				if (this.#pending.get(key) === reading) this.#pending.delete(key);
				throw error;
			},
		);
		this.#pending.set(key, reading);
		return reading;
	}

	/** What this hub itself just wrote, so that its next read needs no round trip. */
	set(key: string, value: V): void {
		this.#keep(key, value, this.now());
	}

	/** Drops one key, or everything: the value changed (here, or on another hub). */
	forget(key?: string): void {
		this.#changes++;
		if (key === undefined) {
			this.#entries.clear();
			this.#pending.clear();
		} else {
			this.#entries.delete(key);
			this.#pending.delete(key);
		}
	}

	#keep(key: string, value: V, at: number): void {
		this.#entries.delete(key);
		this.#entries.set(key, { value, at });
		if (this.#entries.size > this.max) {
			const oldest = this.#entries.keys().next();
			if (!oldest.done) this.#entries.delete(oldest.value);
		}
	}
}

/** What a hub tells the others when a cached answer changed here (`null`: forget everything). */
export type CacheChange = { cache: 'contacts'; key: string | null } | { cache: 'push'; key: string | null };

function relationKey(owner: string, peer: string): string {
	return `${owner}\n${peer}`;
}

/**
 * The hub's view of its caches: the contacts and push repositories with the reads of the send path
 * cached, every write through them forgetting what it changed and telling the other hubs (`tell`,
 * wired to the adapter once the hub has one).
 */
export class HubReadCaches {
	readonly #relations: ReadCache<Contact | null>;
	readonly #subscriptions: ReadCache<PushSubscriptionRecord[]>;
	#tell: (change: CacheChange) => Promise<void> = () => Promise.resolve();

	constructor(now: () => number) {
		this.#relations = new ReadCache(now);
		this.#subscriptions = new ReadCache(now);
	}

	/**
	 * Where changes made here are announced to the other hubs: `tell` resolves once they have
	 * forgotten it (or could not be reached in time), and never rejects.
	 */
	onChange(tell: (change: CacheChange) => Promise<void>): void {
		this.#tell = tell;
	}

	/** Another hub changed something: forget it here. */
	apply(change: CacheChange): void {
		const cache = change.cache === 'contacts' ? this.#relations : this.#subscriptions;
		cache.forget(change.key ?? undefined);
	}

	/** Forgets here, and resolves once the other hubs have forgotten too. */
	#changed(change: CacheChange): Promise<void> {
		this.apply(change);
		return this.#tell(change);
	}

	contacts(repo: ContactsRepo): ContactsRepo {
		const relations = this.#relations;
		const changed = (owner: string | null, peer: string | null) =>
			this.#changed({
				cache: 'contacts',
				key: owner === null || peer === null ? null : relationKey(owner, peer),
			});
		return {
			...repo,
			// Decisions about a relation itself (ContactService) read it fresh: `relation` is the repo's.
			recentRelation: (owner, peer) =>
				relations.get(relationKey(owner, peer), () => repo.relation(owner, peer)),
			// A block or an unblock holds for every hub by the time it is answered.
			async put(owner, peer, state, since) {
				const contact = await repo.put(owner, peer, state, since);
				await changed(owner, peer);
				return contact;
			},
			async addIfAbsent(owner, peer, since) {
				const key = relationKey(owner, peer);
				// Already known to exist (whatever its state): nothing to insert.
				if ((await relations.get(key, () => repo.relation(owner, peer))) !== null) return false;
				const added = await repo.addIfAbsent(owner, peer, since);
				if (added) {
					// On the send path, so not awaited: another hub that still has "no relation" for this
					// pair counts the owner's replies as a request's for READ_CACHE_TTL_MS at most.
					void changed(owner, peer);
					relations.set(key, { username: peer, state: 'accepted', since });
				}
				return added;
			},
			async remove(owner, peer) {
				const removed = await repo.remove(owner, peer);
				await changed(owner, peer);
				return removed;
			},
			async deleteForAccount(username) {
				await repo.deleteForAccount(username);
				await changed(null, null);
			},
		};
	}

	push(repo: PushRepo): PushRepo {
		const subscriptions = this.#subscriptions;
		// Not awaited: a subscription is made from an open app, which its socket tells of messages, so
		// another hub that still has the old list for READ_CACHE_TTL_MS misses no push that mattered.
		const changed = (username: string | null) => void this.#changed({ cache: 'push', key: username });
		return {
			...repo,
			listByUser: (username) => subscriptions.get(username, () => repo.listByUser(username)),
			async put(record) {
				await repo.put(record);
				changed(record.username);
			},
			// These know a session, not its user: rare (a sign-out, an unsubscribe, a gone endpoint), so
			// every user's entry goes.
			async delete(sessionId) {
				const deleted = await repo.delete(sessionId);
				changed(null);
				return deleted;
			},
			async deleteEndpoint(sessionId, endpoint) {
				await repo.deleteEndpoint(sessionId, endpoint);
				changed(null);
			},
			async deleteMany(sessionIds) {
				if (sessionIds.length === 0) return;
				await repo.deleteMany(sessionIds);
				changed(null);
			},
			async deleteByUser(username) {
				await repo.deleteByUser(username);
				changed(username);
			},
		};
	}
}
