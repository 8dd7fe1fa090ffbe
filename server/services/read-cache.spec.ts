import { describe, expect, it } from 'vitest';
import type { Contact } from '../../src/lib/protocol';
import type { ContactsRepo } from '../store';
import { HubReadCaches, READ_CACHE_TTL_MS, ReadCache, type CacheChange } from './read-cache';

function clock(start = 1_000_000) {
	let t = start;
	return { now: () => t, advance: (ms: number) => (t += ms) };
}

function deferred<T>() {
	let resolve!: (value: T) => void;
	const promise = new Promise<T>((r) => (resolve = r));
	return { promise, resolve };
}

describe('ReadCache', () => {
	it('reads once within the TTL, and again after it', async () => {
		const time = clock();
		const cache = new ReadCache<number>(time.now);
		let reads = 0;
		const read = () => Promise.resolve(++reads);
		expect(await cache.get('k', read)).toBe(1);
		time.advance(READ_CACHE_TTL_MS - 1);
		expect(await cache.get('k', read)).toBe(1);
		time.advance(1);
		expect(await cache.get('k', read)).toBe(2);
	});

	it('shares one read between concurrent misses', async () => {
		const cache = new ReadCache<string>(clock().now);
		const answer = deferred<string>();
		let reads = 0;
		const read = () => {
			reads++;
			return answer.promise;
		};
		const both = Promise.all([cache.get('k', read), cache.get('k', read)]);
		answer.resolve('v');
		expect(await both).toEqual(['v', 'v']);
		expect(reads).toBe(1);
	});

	it('does not keep an answer read while something was forgotten (it may predate the change)', async () => {
		const cache = new ReadCache<string>(clock().now);
		const stale = deferred<string>();
		const first = cache.get('k', () => stale.promise);
		cache.forget('k');
		stale.resolve('before the change');
		expect(await first).toBe('before the change');
		expect(await cache.get('k', () => Promise.resolve('after'))).toBe('after');
	});

	it('does not keep a failed read', async () => {
		const cache = new ReadCache<string>(clock().now);
		await expect(cache.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
		expect(await cache.get('k', () => Promise.resolve('up'))).toBe('up');
	});

	it('keeps at most `max` entries, the oldest going first', async () => {
		const cache = new ReadCache<string>(clock().now, READ_CACHE_TTL_MS, 2);
		for (const key of ['a', 'b', 'c']) await cache.get(key, () => Promise.resolve(key));
		let reads = 0;
		await cache.get('a', () => Promise.resolve(`a${++reads}`));
		await cache.get('c', () => Promise.resolve(`c${++reads}`));
		expect(reads).toBe(1);
	});
});

function memoryContacts(): ContactsRepo & { reads: number } {
	const relations = new Map<string, Contact>();
	const repo = {
		reads: 0,
		relation(owner: string, peer: string) {
			repo.reads++;
			return Promise.resolve(relations.get(`${owner}:${peer}`) ?? null);
		},
		recentRelation(owner: string, peer: string) {
			return repo.relation(owner, peer);
		},
		list: () => Promise.resolve([...relations.values()]),
		count: () => Promise.resolve(relations.size),
		put(owner: string, peer: string, state: Contact['state'], since: number) {
			const contact = { username: peer, state, since };
			relations.set(`${owner}:${peer}`, contact);
			return Promise.resolve(contact);
		},
		addIfAbsent(owner: string, peer: string, since: number) {
			if (relations.has(`${owner}:${peer}`)) return Promise.resolve(false);
			relations.set(`${owner}:${peer}`, { username: peer, state: 'accepted' as const, since });
			return Promise.resolve(true);
		},
		remove: (owner: string, peer: string) => Promise.resolve(relations.delete(`${owner}:${peer}`)),
		deleteForAccount() {
			relations.clear();
			return Promise.resolve();
		},
	};
	return repo;
}

describe('HubReadCaches: contacts', () => {
	it('answers the send path from memory, and sees a change made through this hub at once', async () => {
		const repo = memoryContacts();
		const caches = new HubReadCaches(clock().now);
		const told: CacheChange[] = [];
		caches.onChange((change) => {
			told.push(change);
			return Promise.resolve();
		});
		const contacts = caches.contacts(repo);

		expect(await contacts.recentRelation('bob', 'alice')).toBeNull();
		expect(await contacts.recentRelation('bob', 'alice')).toBeNull();
		expect(repo.reads).toBe(1);

		await contacts.put('bob', 'alice', 'blocked', 5);
		expect(await contacts.recentRelation('bob', 'alice')).toMatchObject({ state: 'blocked' });
		expect(told).toEqual([{ cache: 'contacts', key: 'bob\nalice' }]);

		await contacts.remove('bob', 'alice');
		expect(await contacts.recentRelation('bob', 'alice')).toBeNull();
	});

	it('forgets what another hub says changed', async () => {
		const repo = memoryContacts();
		const here = new HubReadCaches(clock().now);
		const contacts = here.contacts(repo);
		expect(await contacts.recentRelation('bob', 'alice')).toBeNull();
		await repo.put('bob', 'alice', 'blocked', 5); // written by another hub, straight to the database
		expect(await contacts.recentRelation('bob', 'alice')).toBeNull();
		here.apply({ cache: 'contacts', key: 'bob\nalice' });
		expect(await contacts.recentRelation('bob', 'alice')).toMatchObject({ state: 'blocked' });
	});

	it('inserts a relation once, and never over an existing one (a block stays a block)', async () => {
		const repo = memoryContacts();
		const contacts = new HubReadCaches(clock().now).contacts(repo);
		expect(await contacts.addIfAbsent('alice', 'bob', 1)).toBe(true);
		expect(await contacts.addIfAbsent('alice', 'bob', 2)).toBe(false);
		await contacts.put('alice', 'carol', 'blocked', 3);
		expect(await contacts.addIfAbsent('alice', 'carol', 4)).toBe(false);
		expect(await repo.relation('alice', 'carol')).toMatchObject({ state: 'blocked' });
	});
});
