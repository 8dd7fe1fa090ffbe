import type { ClientInit } from '@sveltejs/kit/hooks';
import { session } from './lib/client/session.svelte';

/**
 * Runs once, before the router loads the first page's code. Opening the account this tab holds
 * (libsodium, the database, the engine) starts here, so its downloads go beside the route's own
 * instead of after the first render: a reloaded conversation shows its messages that much sooner.
 * Not awaited: the router starts at once, and the root layout shows "Opening…" until this settles.
 */
export const init: ClientInit = () => {
	void session.boot();
};
