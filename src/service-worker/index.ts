import { version } from '$app/env';
import { assets, immutable, prerendered } from '$app/manifest';
import { self } from '$app/service-worker';
import onlineOnly from 'virtual:hourglass/online-only';
import {
	DOWNLOAD_PATH,
	contentDisposition,
	type DownloadDemand,
	type DownloadFeed,
	type DownloadStart,
} from '../lib/client/files-sw';
import { OPEN_CONVERSATION, type OpenConversation } from '../lib/client/conversation-path';
import { notificationOfPush, pushData } from '../lib/client/push-message';
import { translator } from '../lib/i18n/catalog';
import { en } from '../lib/i18n/en';
import { fr } from '../lib/i18n/fr';
import { workerLocale } from '../lib/i18n/worker-locale';

/**
 * Offline shell: the built app and the static files are cached at install, so the app opens with no
 * network and reads its history from IndexedDB (libsodium and the kdf worker included: unlocking
 * offline runs Argon2id). What only serves while online (the password checker of the sign-up form,
 * scripts/precache.ts) is cached when first fetched instead. Nothing the hub answers dynamically is
 * ever cached. The build's .br/.gz copies are written after this list is made, and never in it.
 */
const CACHE = `hourglass-${version}`;
const SHELL = '/index.html';

const skipped = new Set(onlineOnly);
const PRECACHE = [
	...new Set([
		SHELL,
		...immutable.map((f) => f.path).filter((path) => !skipped.has(path)),
		...assets.map((f) => f.path),
		...prerendered.map((f) => f.path),
	]),
].map((path) => (path.startsWith('/') ? path : `/${path}`));

/** Live data: sessions, keys, envelopes, metrics. Always the network, never a cache. */
function isLive(pathname: string): boolean {
	return (
		pathname.startsWith('/api/') ||
		pathname === '/api' ||
		pathname.startsWith('/socket.io/') ||
		pathname === '/metrics' ||
		pathname.startsWith('/metrics/')
	);
}

self.addEventListener('install', (event) => {
	event.waitUntil(
		(async () => {
			const cache = await caches.open(CACHE);
			await cache.addAll(PRECACHE);
			await self.skipWaiting();
		})(),
	);
});

self.addEventListener('activate', (event) => {
	event.waitUntil(
		(async () => {
			for (const key of await caches.keys()) {
				if (key !== CACHE && key.startsWith('hourglass-')) await caches.delete(key);
			}
			await self.clients.claim();
		})(),
	);
});

async function shell(request: Request): Promise<Response> {
	const cache = await caches.open(CACHE);
	const cached = await cache.match(SHELL);
	if (cached) return cached;
	return fetch(request);
}

async function asset(request: Request): Promise<Response> {
	const cache = await caches.open(CACHE);
	const cached = await cache.match(request);
	if (cached) return cached;
	const response = await fetch(request);
	// Built files are content-hashed: a copy fetched after install is safe to keep.
	if (response.ok && new URL(request.url).pathname.startsWith('/_app/immutable/')) {
		await cache.put(request, response.clone());
	}
	return response;
}

/**
 * Streamed downloads (src/lib/client/files-save.ts): the page decrypts a file and feeds its bytes
 * through a MessagePort; this worker answers the download's request with them as they come, one
 * chunk per pull, so the file is never whole in memory. Kept until its request comes.
 */
const downloads = new Map<string, Response>();

self.addEventListener('message', (event) => {
	const start = event.data as DownloadStart | undefined;
	const port = event.ports[0];
	if (start?.type !== 'hourglass:download' || !port || typeof start.id !== 'string') return;
	const demand = (message: DownloadDemand) => port.postMessage(message);
	let arrived: (() => void) | null = null;
	const body = new ReadableStream<Uint8Array>({
		start(controller) {
			port.onmessage = (message: MessageEvent<DownloadFeed>) => {
				const feed = message.data;
				if (feed.type === 'chunk') controller.enqueue(feed.bytes);
				else if (feed.type === 'end') controller.close();
				// A refused file: the download fails and the browser deletes what it wrote.
				else controller.error(new Error('The file was refused.'));
				arrived?.();
				arrived = null;
				if (feed.type !== 'chunk') port.close();
			};
		},
		pull() {
			demand({ type: 'pull' });
			return new Promise<void>((resolve) => (arrived = resolve));
		},
		cancel() {
			demand({ type: 'cancel' });
			port.close();
		},
	});
	const headers = new Headers({
		'Content-Type': 'application/octet-stream',
		'Content-Disposition': contentDisposition(String(start.name)),
		'X-Content-Type-Options': 'nosniff',
	});
	if (Number.isSafeInteger(start.size) && start.size >= 0) headers.set('Content-Length', String(start.size));
	downloads.set(start.id, new Response(body, { headers }));
	demand({ type: 'ready' });
});

self.addEventListener('fetch', (event) => {
	const request = event.request;
	if (request.method !== 'GET') return;
	const url = new URL(request.url);
	if (url.origin !== self.location.origin || isLive(url.pathname)) return;
	if (url.pathname.startsWith(DOWNLOAD_PATH)) {
		const id = url.pathname.slice(DOWNLOAD_PATH.length);
		const response = downloads.get(id);
		downloads.delete(id);
		event.respondWith(response ?? new Response('This download is over.', { status: 404 }));
		return;
	}
	// Every page of the single-page app is the same shell; the router takes it from there.
	if (request.mode === 'navigate') {
		event.respondWith(shell(request));
		return;
	}
	event.respondWith(asset(request));
});

/**
 * Web Push: the hub sends only who wrote (docs/SECURITY.md, "Web Push"), so this shows "New message
 * from alice" and puts a plain badge on the icon; the app counts exactly once it opens.
 */
self.addEventListener('push', (event) => {
	const data = pushData(() => event.data?.text() ?? '');
	event.waitUntil(
		Promise.all([
			workerLocale(self.navigator.languages).then((locale) => {
				const shown = notificationOfPush(data, translator(locale, { en, fr }));
				return self.registration.showNotification(shown.title, {
					tag: shown.tag,
					icon: new URL('icon-192.png', self.registration.scope).href,
					data: { path: shown.path },
				});
			}),
			// Optional: the notification is what matters, and a platform without badges refuses this.
			'setAppBadge' in self.navigator ? self.navigator.setAppBadge().catch(() => undefined) : undefined,
		]),
	);
});

/** A click on a notification (pushed, or shown by the page) opens its conversation in a window of the app. */
self.addEventListener('notificationclick', (event) => {
	event.notification.close();
	const data = event.notification.data as { path?: unknown } | null;
	const path = typeof data?.path === 'string' ? data.path : 'chat';
	event.waitUntil(openConversation(path));
});

async function openConversation(path: string): Promise<void> {
	const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
	const client = windows.find((w) => w.focused) ?? windows[0];
	if (client) {
		// The open app navigates itself: a reload would lock it and ask for the password again.
		const message: OpenConversation = { type: OPEN_CONVERSATION, path };
		client.postMessage(message);
		await client.focus();
		return;
	}
	await self.clients.openWindow(new URL(path, self.registration.scope).href);
}
