import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/lib/crypto';
import { ContactChanged, LIMITS, ROUTES, parseContactCard } from '../../src/lib/protocol';
import {
	FingerprintMismatchError,
	addContactFromCard,
	deleteAccount,
	ownContactCard,
} from '../../src/lib/sdk';
import { startTestHub, type TestHub } from '../helpers/hub';
import { apiRefusal, newUser, refusal, uniqueName, waitForEvent, type TestClient } from '../helpers/users';

const HOUR_MS = 3_600_000;
let hub: TestHub;
const clients: TestClient[] = [];

beforeAll(async () => {
	await ready();
	// The protocol's request caps, not the test defaults that keep them out of other tests' way.
	hub = await startTestHub({
		name: 'contacts',
		env: {
			REQUEST_ENVELOPES_MAX: String(LIMITS.requestEnvelopesMax),
			REQUEST_BYTES_MAX: String(LIMITS.requestBytesMax),
		},
	});
});

afterAll(async () => {
	for (const client of clients) client.close();
	await hub?.stop();
});

async function user(prefix: string): Promise<TestClient> {
	const client = await newUser(hub.url, uniqueName(prefix));
	clients.push(client);
	return client;
}

/** What the hub holds from `from` for `to`, read from its store (settled and locked). */
async function storedFor(from: TestClient, to: TestClient) {
	return hub.hub.context.store.usage.storedFor(from.username, to.username);
}

async function receivedIds(client: TestClient): Promise<string[]> {
	const page = await client.messenger.sync(null, LIMITS.syncPageMax);
	return page.envelopes.filter((e) => e.to === client.username).map((e) => e.id);
}

function send(path: string, method: string, body: unknown, cookie?: string) {
	return fetch(hub.url + path, {
		method,
		headers: {
			...(body === undefined ? {} : { 'content-type': 'application/json' }),
			...(cookie ? { cookie } : {}),
		},
		body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
	});
}

describe('message requests', () => {
	it('a stranger stores at most the request limit for you; the sender gets REQUEST_LIMIT; accepting lifts it', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const sent: string[] = [];
		for (let i = 0; i < LIMITS.requestEnvelopesMax; i++) {
			sent.push((await alice.messenger.send(bob.username, `hello ${i}`)).envelope.id);
		}
		expect(await refusal(alice.messenger.send(bob.username, 'one too many'))).toBe('REQUEST_LIMIT');
		expect((await storedFor(alice, bob)).envelopes).toBe(LIMITS.requestEnvelopesMax);
		// Delivered as a request all the same: bob's devices decide where it shows.
		expect(await receivedIds(bob)).toEqual(sent);
		// Writing to bob made him alice's contact; bob has no relation with alice.
		expect((await alice.api.contacts()).contacts).toEqual([
			expect.objectContaining({ username: bob.username, state: 'accepted' }),
		]);
		expect((await bob.api.contacts()).contacts).toEqual([]);

		const told = waitForEvent(bob.socket, 'contacts:changed', (c) => c.username === alice.username);
		const accepted = await bob.api.setContact(alice.username, 'accepted');
		expect(accepted).toMatchObject({ username: alice.username, state: 'accepted' });
		expect(ContactChanged.parse(await told)).toMatchObject({
			username: alice.username,
			state: 'accepted',
			cleared: false,
		});
		const more = await alice.messenger.send(bob.username, 'now we are contacts');
		expect(more.result.duplicate).toBe(false);
		expect(await receivedIds(bob)).toContain(more.envelope.id);
	});

	it('a request is also capped in bytes', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const big = 'x'.repeat(LIMITS.requestBytesMax);
		expect(await refusal(alice.messenger.send(bob.username, big))).toBe('REQUEST_LIMIT');
		expect((await storedFor(alice, bob)).envelopes).toBe(0);
	});

	it('a reply to someone you wrote to is never a request', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const added = waitForEvent(alice.socket, 'contacts:changed');
		await alice.messenger.send(bob.username, 'hi bob');
		expect(ContactChanged.parse(await added)).toMatchObject({ username: bob.username, state: 'accepted' });
		// Bob replies more than a request may hold: alice wrote to him first, so he is her contact.
		for (let i = 0; i <= LIMITS.requestEnvelopesMax; i++) await bob.messenger.send(alice.username, `re ${i}`);
		expect((await storedFor(bob, alice)).envelopes).toBe(LIMITS.requestEnvelopesMax + 1);
	});

	it("declining deletes only that sender's envelopes to you on the hub, time-locked ones included", async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const carol = await user('carol');
		await alice.messenger.send(bob.username, 'hello bob');
		await alice.messenger.send(bob.username, 'later', { unlockAt: Date.now() + HOUR_MS, announce: true });
		await carol.messenger.send(bob.username, 'carol here');
		await bob.messenger.send(alice.username, 'bob to alice');
		expect((await bob.messenger.sync(null)).sealed).toHaveLength(1);

		const told = waitForEvent(bob.socket, 'contacts:changed', (c) => c.username === alice.username);
		expect(await bob.api.declineRequest(alice.username)).toEqual({ deleted: 2 });
		expect(ContactChanged.parse(await told)).toMatchObject({ state: null, cleared: true });
		expect(await storedFor(alice, bob)).toEqual({ envelopes: 0, bytes: 0 });
		const page = await bob.messenger.sync(null);
		expect(page.sealed).toEqual([]);
		expect(page.envelopes.map((e) => e.from).sort()).toEqual([bob.username, carol.username].sort());
		// Bob's own message to alice stays, and alice may write again, as a new request.
		expect((await storedFor(bob, alice)).envelopes).toBe(1);
		await alice.messenger.send(bob.username, 'please?');
		expect((await storedFor(alice, bob)).envelopes).toBe(1);
	});
});

describe('blocking', () => {
	it('stores nothing from a blocked sender, acknowledges as usual, declines the pending request; unblock lets them write again', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const first = await alice.messenger.send(bob.username, 'hello bob');
		const before = await alice.messenger.send(bob.username, 'an ordinary send');

		await bob.api.setContact(alice.username, 'blocked');
		// Blocking declined the request: the hub's copies are gone.
		expect(await storedFor(alice, bob)).toEqual({ envelopes: 0, bytes: 0 });
		expect(await hub.hub.context.store.envelopes.get(first.envelope.id)).toBeNull();

		const live = await alice.messenger.send(bob.username, 'are you there?');
		const locked = await alice.messenger.send(bob.username, 'sealed', { unlockAt: Date.now() + HOUR_MS });
		// The ack looks like any other: same fields, same kinds of values.
		expect(Object.keys(live.result).sort()).toEqual(Object.keys(before.result).sort());
		expect(live.result).toMatchObject({ id: live.envelope.id, duplicate: false, state: 'live' });
		expect(locked.result).toMatchObject({ id: locked.envelope.id, duplicate: false, state: 'locked' });
		// …and nothing was stored, live or time-locked: no limit ever refuses them either.
		for (let i = 0; i < LIMITS.requestEnvelopesMax; i++)
			await alice.messenger.send(bob.username, `more ${i}`);
		const { store } = hub.hub.context;
		expect(await store.envelopes.get(live.envelope.id)).toBeNull();
		expect(await store.envelopes.get(locked.envelope.id)).toBeNull();
		expect(await storedFor(alice, bob)).toEqual({ envelopes: 0, bytes: 0 });
		expect(await receivedIds(bob)).toEqual([]);
		expect((await bob.messenger.sync(null)).sealed).toEqual([]);
		expect((await bob.api.contacts()).contacts).toEqual([
			expect.objectContaining({ username: alice.username, state: 'blocked' }),
		]);

		expect(await bob.api.removeContact(alice.username)).toEqual({ removed: true });
		const after = await alice.messenger.send(bob.username, 'hello again');
		expect(await store.envelopes.get(after.envelope.id)).not.toBeNull();
		expect(await receivedIds(bob)).toEqual([after.envelope.id]);
	});

	it('blocking a contact keeps what they already sent; a decline of a blocked sender keeps the block', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		await bob.api.setContact(alice.username, 'accepted');
		const kept = await alice.messenger.send(bob.username, 'old news');
		await bob.api.setContact(alice.username, 'blocked');
		expect(await receivedIds(bob)).toEqual([kept.envelope.id]);
		await bob.api.declineRequest(alice.username);
		expect((await bob.api.contacts()).contacts[0]).toMatchObject({ state: 'blocked' });
	});

	it("an account's deletion removes its contacts and others' relations with it", async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		await bob.api.setContact(alice.username, 'blocked');
		await alice.messenger.send(bob.username, 'hi');
		const { store } = hub.hub.context;
		expect(await store.contacts.relation(alice.username, bob.username)).not.toBeNull();
		await deleteAccount(alice.api, alice.username, alice.password);
		expect(await store.contacts.relation(alice.username, bob.username)).toBeNull();
		expect(await store.contacts.relation(bob.username, alice.username)).toBeNull();
	});
});

describe('contact cards', () => {
	it('adds and pins a contact whose keys match the card', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const card = parseContactCard(ownContactCard(hub.url, bob.account));
		expect(card).toEqual({ username: bob.username, fingerprint: expect.stringMatching(/^\d{30}$/) });
		const { contact, pin } = await addContactFromCard(alice.messenger, card!);
		expect(contact).toMatchObject({ username: bob.username, state: 'accepted' });
		expect(pin).toMatchObject(bob.account.user.identity);
		expect(await alice.messenger.pins.get(bob.username)).toMatchObject(bob.account.user.identity);
	});

	it('refuses a card whose fingerprint does not match, and adds and pins nothing', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const mallory = await user('mallory');
		// Mallory's fingerprint under bob's name: what a tampered card would carry.
		const forged = parseContactCard(ownContactCard(hub.url, mallory.account))!;
		await expect(
			addContactFromCard(alice.messenger, { username: bob.username, fingerprint: forged.fingerprint }),
		).rejects.toBeInstanceOf(FingerprintMismatchError);
		expect(await alice.messenger.pins.get(bob.username)).toBeUndefined();
		expect((await alice.api.contacts()).contacts).toEqual([]);
	});
});

describe('bad input', () => {
	it('refuses unauthenticated, malformed, oversized, unknown and self requests, and changes nothing', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const cookie = alice.api.cookieHeader()!;

		for (const [path, method, body] of [
			[ROUTES.contacts, 'GET', undefined],
			[ROUTES.contact(bob.username), 'PUT', { state: 'accepted' }],
			[ROUTES.contact(bob.username), 'DELETE', undefined],
			[ROUTES.contactDecline(bob.username), 'POST', {}],
		] as const) {
			const response = await send(path, method, body);
			expect(response.status, `${method} ${path}`).toBe(401);
			expect(await response.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
		}

		const bad = async (path: string, method: string, body: unknown) => {
			const response = await send(path, method, body, cookie);
			return {
				status: response.status,
				code: ((await response.json()) as { error: { code: string } }).error.code,
			};
		};
		expect(await bad(ROUTES.contact(bob.username), 'PUT', { state: 'friend' })).toEqual({
			status: 400,
			code: 'BAD_REQUEST',
		});
		expect(await bad(ROUTES.contact(bob.username), 'PUT', { state: 'accepted', extra: 1 })).toEqual({
			status: 400,
			code: 'BAD_REQUEST',
		});
		expect(await bad(ROUTES.contact(bob.username), 'PUT', '{not json')).toEqual({
			status: 400,
			code: 'BAD_REQUEST',
		});
		expect(await bad(ROUTES.contact('no'), 'PUT', { state: 'accepted' })).toEqual({
			status: 400,
			code: 'BAD_REQUEST',
		});
		expect(await bad(ROUTES.contact('x'.repeat(40)), 'PUT', { state: 'accepted' })).toEqual({
			status: 400,
			code: 'BAD_REQUEST',
		});
		expect(
			await bad(ROUTES.contact(bob.username), 'PUT', { state: 'accepted', pad: 'x'.repeat(40 * 1024) }),
		).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });

		const unknown = uniqueName('nobody');
		expect(await apiRefusal(alice.api.setContact(unknown, 'accepted'))).toEqual({
			code: 'NOT_FOUND',
			status: 404,
		});
		expect(await apiRefusal(alice.api.setContact(unknown, 'blocked'))).toEqual({
			code: 'NOT_FOUND',
			status: 404,
		});
		expect(await apiRefusal(alice.api.removeContact(unknown))).toEqual({ code: 'NOT_FOUND', status: 404 });
		expect(await apiRefusal(alice.api.declineRequest(unknown))).toEqual({ code: 'NOT_FOUND', status: 404 });
		expect(await apiRefusal(alice.api.setContact(alice.username, 'accepted'))).toEqual({
			code: 'BAD_REQUEST',
			status: 400,
		});
		expect(await apiRefusal(alice.api.setContact(alice.username, 'blocked'))).toEqual({
			code: 'BAD_REQUEST',
			status: 400,
		});
		expect(await apiRefusal(alice.api.declineRequest(alice.username))).toEqual({
			code: 'BAD_REQUEST',
			status: 400,
		});

		expect((await alice.api.contacts()).contacts).toEqual([]);
		expect(await alice.api.removeContact(bob.username)).toEqual({ removed: false });
	});

	it('a foreign page cannot change contacts (origin check)', async () => {
		const alice = await user('alice');
		const bob = await user('bob');
		const response = await fetch(hub.url + ROUTES.contact(bob.username), {
			method: 'PUT',
			headers: {
				'content-type': 'application/json',
				cookie: alice.api.cookieHeader()!,
				origin: 'https://evil.example',
			},
			body: JSON.stringify({ state: 'blocked' }),
		});
		expect(response.status).toBe(403);
		expect((await alice.api.contacts()).contacts).toEqual([]);
	});
});
