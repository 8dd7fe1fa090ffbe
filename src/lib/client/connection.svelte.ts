import type { SessionEnded } from '../protocol';
import { ApiError, connectHub, type HubApi, type HubSocket } from '../sdk';
import { HubClock } from './clock.svelte';

/**
 * - `connecting`: trying to reach the hub
 * - `online`: the socket is up and authenticated
 * - `offline`: no network or no hub; Socket.IO keeps retrying
 * - `signed-out`: the hub no longer knows this session; the password is needed to sign in again
 */
export type LinkState = 'connecting' | 'online' | 'offline' | 'signed-out';

export interface ConnectionEvents {
	/** The socket is up: sync, flush the outbox. */
	online(): Promise<void>;
	/** The hub ended or refused the session. */
	signedOut(reason: SessionEnded['reason']): void;
}

/** The socket to the hub, its state for the UI, and the hub clock measured on every connect. */
export class Connection {
	readonly socket: HubSocket;
	readonly clock = new HubClock();
	#api: HubApi;
	#events: ConnectionEvents;
	#state = $state<LinkState>('connecting');
	#started = false;

	constructor(api: HubApi, events: ConnectionEvents) {
		this.#api = api;
		this.#events = events;
		this.socket = connectHub('', { autoConnect: false });
	}

	get state(): LinkState {
		return this.#state;
	}

	start(): void {
		if (this.#started) return;
		this.#started = true;
		this.socket.on('connect', this.#onConnect);
		this.socket.on('disconnect', this.#onDisconnect);
		this.socket.on('connect_error', this.#onConnectError);
		this.socket.on('session:ended', this.#onSessionEnded);
		window.addEventListener('online', this.#onBrowserOnline);
		window.addEventListener('offline', this.#onBrowserOffline);
		if (navigator.onLine) this.socket.connect();
		else this.#state = 'offline';
	}

	stop(): void {
		if (!this.#started) return;
		this.#started = false;
		window.removeEventListener('online', this.#onBrowserOnline);
		window.removeEventListener('offline', this.#onBrowserOffline);
		this.socket.off('connect', this.#onConnect);
		this.socket.off('disconnect', this.#onDisconnect);
		this.socket.off('connect_error', this.#onConnectError);
		this.socket.off('session:ended', this.#onSessionEnded);
		this.socket.disconnect();
	}

	/** After signing in again: connect with the new session cookie. */
	reconnect(): void {
		if (!this.#started) return;
		this.#state = 'connecting';
		this.socket.disconnect();
		this.socket.connect();
	}

	#onConnect = () => {
		this.#state = 'online';
		void (async () => {
			try {
				await this.clock.sync(this.socket);
			} catch {
				// Keep the previous offset; the next connect measures again.
			}
			await this.#events.online();
		})();
	};

	#onDisconnect = (reason: string) => {
		if (this.#state === 'signed-out') return;
		this.#state = navigator.onLine ? 'connecting' : 'offline';
		// The hub closed the socket itself: Socket.IO will not retry, so find out why.
		if (reason === 'io server disconnect') void this.#checkSession();
	};

	#onConnectError = () => {
		if (this.#state === 'signed-out') return;
		void this.#checkSession();
	};

	#onSessionEnded = (event: SessionEnded) => {
		this.#signedOut(event.reason);
	};

	// Emulated or real loss of network: a WebSocket can linger for a while, so close it now.
	#onBrowserOffline = () => {
		if (this.#state === 'signed-out') return;
		this.#state = 'offline';
		this.socket.disconnect();
	};

	#onBrowserOnline = () => {
		if (this.#state === 'signed-out' || this.socket.connected) return;
		this.#state = 'connecting';
		this.socket.connect();
	};

	/** A refused handshake looks like a network error: the REST session check tells them apart. */
	async #checkSession(): Promise<void> {
		try {
			await this.#api.session();
			if (!this.socket.connected && this.#state !== 'signed-out') {
				this.#state = navigator.onLine ? 'connecting' : 'offline';
				if (!this.socket.active) this.socket.connect();
			}
		} catch (error) {
			if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') this.#signedOut('expired');
			else if (this.#state !== 'signed-out') this.#state = 'offline';
		}
	}

	#signedOut(reason: SessionEnded['reason']): void {
		if (this.#state === 'signed-out') return;
		this.#state = 'signed-out';
		this.socket.disconnect();
		this.#events.signedOut(reason);
	}
}
