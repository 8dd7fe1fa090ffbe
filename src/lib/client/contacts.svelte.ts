import { liveQuery, type Subscription } from 'dexie';
import type { Contact, ContactChanged, ContactState } from '../protocol';
import type { HubApi } from '../sdk';
import { openText, sealText, type AccountDb, type ContactRow } from './db';

/** A contact as the Contacts page shows it: the hub's relation and this device's nickname. */
export interface ContactView {
	username: string;
	state: ContactState;
	since: number;
	/** Set on this device only; never sent to the hub. */
	nickname: string | null;
}

/**
 * The account's contacts and blocks. The hub holds the truth (it enforces blocks and request
 * limits); this device keeps a copy in IndexedDB, so the chat list and the requests sort
 * conversations the same way offline, and follows it through Dexie's liveQuery. The copy is
 * replaced on every connect and changed by each `contacts:changed` push.
 */
export class Contacts {
	#db: AccountDb;
	#api: HubApi;
	#localKey: Uint8Array;
	#list = $state.raw<ContactView[]>([]);
	#states = $state.raw<Readonly<Record<string, ContactState>>>({});
	#loaded = $state(false);
	#query: Subscription | null = null;

	constructor(db: AccountDb, api: HubApi, localKey: Uint8Array) {
		this.#db = db;
		this.#api = api;
		this.#localKey = localKey;
	}

	get list(): ContactView[] {
		return this.#list;
	}

	/** True once the copy kept on this device was first read. */
	get loaded(): boolean {
		return this.#loaded;
	}

	/** `accepted`, `blocked`, or null for a stranger (whose messages are a request). */
	stateOf(username: string): ContactState | null {
		return Object.hasOwn(this.#states, username) ? this.#states[username] : null;
	}

	/** Starts following the copy on this device; resolves once it was first read. */
	load(): Promise<void> {
		this.#query?.unsubscribe();
		return new Promise((resolve) => {
			this.#query = liveQuery(() => this.#read()).subscribe({
				next: (list) => {
					this.#list = list;
					this.#states = Object.fromEntries(list.map((c) => [c.username, c.state]));
					this.#loaded = true;
					resolve();
				},
				error: (error: unknown) => {
					console.error('hourglass: contact list failed', error);
					resolve();
				},
			});
		});
	}

	stop(): void {
		this.#query?.unsubscribe();
		this.#query = null;
	}

	/** Replaces the copy with the hub's list. */
	async refresh(): Promise<void> {
		const { contacts } = await this.#api.contacts();
		await this.#db.transaction('rw', this.#db.contacts, async () => {
			await this.#db.contacts.clear();
			await this.#db.contacts.bulkPut(contacts.map(rowOf));
		});
	}

	/** A change pushed by the hub (made on this device or another). */
	async apply(change: ContactChanged): Promise<void> {
		if (change.state === null) await this.#db.contacts.delete(change.username);
		else await this.#db.contacts.put({ username: change.username, state: change.state, since: change.since });
	}

	/** Adds someone, or accepts their request. */
	async accept(username: string): Promise<void> {
		await this.#store(await this.#api.setContact(username, 'accepted'));
	}

	/** Blocks someone: the hub stores nothing more from them; a pending request of theirs is declined. */
	async block(username: string): Promise<void> {
		await this.#store(await this.#api.setContact(username, 'blocked'));
	}

	/** Removes a contact, or lifts a block. */
	async remove(username: string): Promise<void> {
		await this.#api.removeContact(username);
		await this.#db.contacts.delete(username);
	}

	/** Declines a request: the hub deletes what they left stored; a block stays. */
	async decline(username: string): Promise<void> {
		await this.#api.declineRequest(username);
		if (this.stateOf(username) !== 'blocked') await this.#db.contacts.delete(username);
	}

	/** Sets (or with an empty text clears) this device's nickname for a contact. */
	async setNickname(username: string, nickname: string): Promise<void> {
		const trimmed = nickname.trim();
		if (trimmed === '') await this.#db.nicknames.delete(username);
		else await this.#db.nicknames.put({ username, nickname: sealText(trimmed, this.#localKey) });
	}

	async #store(contact: Contact): Promise<void> {
		await this.#db.contacts.put(rowOf(contact));
	}

	async #read(): Promise<ContactView[]> {
		const [rows, nicknames] = await Promise.all([this.#db.contacts.toArray(), this.#db.nicknames.toArray()]);
		const names = new Map(nicknames.map((n) => [n.username, n.nickname])); // eslint-disable-line svelte/prefer-svelte-reactivity -- local to this read
		return rows
			.map((row) => {
				const sealed = names.get(row.username);
				let nickname: string | null = null;
				if (sealed) {
					try {
						nickname = openText(sealed, this.#localKey);
					} catch {
						nickname = null;
					}
				}
				return { ...row, nickname };
			})
			.sort((a, b) => a.username.localeCompare(b.username));
	}
}

function rowOf(contact: Contact): ContactRow {
	return { username: contact.username, state: contact.state, since: contact.since };
}
