import { randomBytes } from 'node:crypto';
import { ProtocolError, type ServerToClientEvents } from '../../src/lib/protocol';
import {
	ApiError,
	HubApi,
	Messenger,
	connectHub,
	createAccount,
	signIn,
	type Account,
	type HubSocket,
} from '../../src/lib/sdk';

export const TEST_PASSWORD = 'correct horse battery staple';

/** A username no other test of this run uses (3–32 characters of the allowed set). */
export function uniqueName(prefix: string): string {
	return `${prefix.slice(0, 16)}_${randomBytes(5).toString('hex')}`;
}

/** One signed-in device: its REST client (with the session cookie), its socket and its messenger. */
export interface TestClient {
	username: string;
	password: string;
	api: HubApi;
	account: Account;
	socket: HubSocket;
	messenger: Messenger;
	/** Opens a new socket with this device's cookie (the old one is closed), connected. */
	reconnect(url?: string): Promise<HubSocket>;
	close(): void;
}

async function device(url: string, password: string, account: Account, api: HubApi): Promise<TestClient> {
	let socket = connectHub(url, { cookie: api.cookieHeader() });
	await waitForConnect(socket);
	const client: TestClient = {
		username: account.username,
		password,
		api,
		account,
		socket,
		messenger: new Messenger({ api, socket, account }),
		async reconnect(nextUrl = url) {
			socket.close();
			socket = connectHub(nextUrl, { cookie: api.cookieHeader() });
			await waitForConnect(socket);
			client.socket = socket;
			client.messenger = new Messenger({ api, socket, account, pins: client.messenger.pins });
			return socket;
		},
		close() {
			client.socket.close();
		},
	};
	return client;
}

/** Registers `username` through the SDK (Argon2id, identity, key backup) and connects a socket. */
export async function newUser(url: string, username: string, password = TEST_PASSWORD): Promise<TestClient> {
	const api = new HubApi({ baseUrl: url, keepCookies: true });
	const account = await createAccount(api, username, password);
	return device(url, password, account, api);
}

/**
 * Signs in as an existing user from a new device: the identity comes back from the key backup.
 * `userAgent` names the device to the hub (the Devices page), as a browser or the CLI would.
 */
export async function signInUser(
	url: string,
	username: string,
	password = TEST_PASSWORD,
	options: { userAgent?: string; trustDevice?: boolean } = {},
): Promise<TestClient> {
	const { userAgent } = options;
	const api = new HubApi({
		baseUrl: url,
		keepCookies: true,
		...(userAgent
			? {
					fetch: (input, init) =>
						fetch(input, { ...init, headers: { ...init?.headers, 'user-agent': userAgent } }),
				}
			: {}),
	});
	const account = await signIn(api, username, password, { trustDevice: options.trustDevice });
	return device(url, password, account, api);
}

/**
 * Resolves with the socket once it is connected (connecting it if it is not trying already);
 * rejects with the handshake's error (`err.data.code`). The tests' and the benches' one connect.
 */
export function waitForConnect(socket: HubSocket, timeoutMs = 10_000): Promise<HubSocket> {
	if (socket.connected) return Promise.resolve(socket);
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			cleanup();
			reject(new Error(`socket did not connect within ${timeoutMs} ms`));
		}, timeoutMs);
		const onConnect = () => {
			cleanup();
			resolve(socket);
		};
		const onError = (error: Error) => {
			cleanup();
			reject(error);
		};
		const cleanup = () => {
			clearTimeout(timer);
			socket.off('connect', onConnect);
			socket.off('connect_error', onError);
		};
		socket.on('connect', onConnect);
		socket.on('connect_error', onError);
		if (!socket.active) socket.connect();
	});
}

type EventArg<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>[0];

/** The next `event` on `socket` that satisfies `predicate`; rejects after `timeoutMs`. */
export function waitForEvent<E extends keyof ServerToClientEvents>(
	socket: HubSocket,
	event: E,
	predicate: (payload: EventArg<E>) => boolean = () => true,
	timeoutMs = 10_000,
): Promise<EventArg<E>> {
	return new Promise((resolve, reject) => {
		// socket.io's typed `on` cannot be called with a generic event name; the listener is typed here instead.
		const target = socket as unknown as {
			on(event: string, listener: (payload: EventArg<E>) => void): void;
			off(event: string, listener: (payload: EventArg<E>) => void): void;
		};
		const timer = setTimeout(() => {
			target.off(event, listener);
			reject(new Error(`no ${event} within ${timeoutMs} ms`));
		}, timeoutMs);
		const listener = (payload: EventArg<E>) => {
			if (!predicate(payload)) return;
			clearTimeout(timer);
			target.off(event, listener);
			resolve(payload);
		};
		target.on(event, listener);
	});
}

/** Resolves when the socket disconnects, with the reason socket.io gives. */
export function waitForDisconnect(socket: HubSocket, timeoutMs = 10_000): Promise<string> {
	if (socket.disconnected && !socket.active) return Promise.resolve('already disconnected');
	return new Promise((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error(`socket still connected after ${timeoutMs} ms`)),
			timeoutMs,
		);
		socket.once('disconnect', (reason) => {
			clearTimeout(timer);
			resolve(reason);
		});
	});
}

/**
 * Emits anything (for malformed-input tests) and resolves with the raw ack, or with null when
 * no ack came within `timeoutMs` (an event the hub rightly ignores).
 */
export async function rawEmit(
	socket: HubSocket,
	event: string,
	args: unknown[],
	timeoutMs = 3_000,
): Promise<unknown> {
	const untyped = socket as unknown as {
		timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
	};
	try {
		return await untyped.timeout(timeoutMs).emitWithAck(event, ...args);
	} catch {
		return null;
	}
}

/** The error code the hub refused a call with; fails the test when the hub accepted it. */
export async function refusal(promise: Promise<unknown>): Promise<string> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof ProtocolError) return error.code;
		throw error;
	}
	throw new Error('the hub accepted what it should have refused');
}

/** The code and HTTP status a REST call was refused with; fails the test when the hub accepted it. */
export async function apiRefusal(promise: Promise<unknown>): Promise<{ code: string; status: number }> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof ApiError) return { code: error.code, status: error.status };
		throw error;
	}
	throw new Error('the hub accepted what it should have refused');
}

/**
 * A fetch whose requests say they come from `address` (X-Forwarded-For), as a proxy in front of
 * the hub would write it: the hub believes it only when TRUST_PROXY trusts this process's address.
 */
export function fetchFrom(address: string): typeof fetch {
	return (input, init) => {
		const headers = new Headers(init?.headers);
		headers.set('x-forwarded-for', address);
		return fetch(input, { ...init, headers });
	};
}
