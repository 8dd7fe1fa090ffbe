import { createECDH } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import webpush from 'web-push';
import { z } from 'zod';
import { ProtocolError, type PushMessage, type PushSubscribeRequest } from '../../src/lib/protocol';
import type { HubConfig } from '../config';
import type { HubMetrics } from '../metrics';
import type { HubServer } from '../socket/types';
import type { PushSubscriptionRecord, Store } from '../store';
import type { SessionActor } from './devices';

/** How long a push service keeps a message for a browser that is offline: a day-old "new message" still helps. */
const PUSH_TTL_SECONDS = 86_400;
/** A push service slower than this is given up on; the message itself was stored long before. */
const PUSH_TIMEOUT_MS = 10_000;
/** Coalescing entries kept at most; the oldest are forgotten first (they are past their window by then). */
const COALESCE_MAX = 50_000;

export type PushOutcome = 'sent' | 'connected' | 'coalesced' | 'gone' | 'failed';

const VapidFile = z.strictObject({ publicKey: z.string().min(1), privateKey: z.string().min(1) });

/** The rooms the Notifier uses; repeated here would drift, so it is handed in. */
export interface PushDeps {
	store: Store;
	config: HubConfig;
	io: HubServer;
	userRoom: (username: string) => string;
	now: () => number;
	logger: Logger;
	metrics: HubMetrics;
	/** The hub's origin, known once it listens: the VAPID subject when none is configured. */
	origin: () => string;
}

/**
 * Web Push: a content-free "new message from …" to the devices of a user that have no socket open
 * (a device with one is told by the socket, and the page notifies through its service worker).
 * Sending never delays or fails the message: it runs after the acknowledgement, and its errors
 * are counted and logged, never thrown.
 */
export class PushService {
	#keys: Promise<{ publicKey: string; privateKey: string }> | null = null;
	/** `${sessionId} ${from}` → when this hub last pushed that sender to that device. */
	#lastSent = new Map<string, number>();
	#outcomes: Counter<'outcome'>;
	#inFlight = new Set<Promise<void>>();

	constructor(private readonly deps: PushDeps) {
		this.#outcomes = new Counter({
			name: 'hourglass_push_total',
			help: 'Web Push decisions per device: sent, skipped (connected, coalesced), gone (404/410), failed.',
			labelNames: ['outcome'] as const,
			registers: [deps.metrics.registry],
		});
	}

	/** The VAPID public key (base64url), made once and kept in DATA_DIR unless the environment gives one. */
	async publicKey(): Promise<string> {
		return (await this.#vapid()).publicKey;
	}

	/** Sets this device's subscription. The endpoint must be a push service's (PUSH_ENDPOINT_HOSTS). */
	async subscribe(actor: SessionActor, request: PushSubscribeRequest): Promise<void> {
		this.#checkEndpoint(request.endpoint);
		try {
			// ECDH with a throwaway key: throws unless the browser's key is a point on the curve.
			const probe = createECDH('prime256v1');
			probe.generateKeys();
			probe.computeSecret(Buffer.from(request.keys.p256dh, 'base64url'));
		} catch {
			throw new ProtocolError('BAD_REQUEST', 'Invalid push subscription: p256dh is not a P-256 public key.');
		}
		await this.deps.store.push.put({
			sessionId: actor.sessionId,
			username: actor.username,
			endpoint: request.endpoint,
			p256dh: request.keys.p256dh,
			auth: request.keys.auth,
			createdAt: this.deps.now(),
		});
	}

	async unsubscribe(actor: SessionActor): Promise<void> {
		await this.deps.store.push.delete(actor.sessionId);
	}

	enabled(actor: SessionActor): Promise<boolean> {
		return this.deps.store.push.has(actor.sessionId);
	}

	/**
	 * A message from `from` became deliverable to `to` (sent live, or a time-lock released): push
	 * to `to`'s devices that have no socket open. Returns at once; the work runs on its own.
	 */
	messageFor(to: string, from: string): void {
		if (to === from) return;
		const work = this.#push(to, from).catch((error: unknown) => {
			this.deps.logger.warn({ err: error }, 'web push could not be prepared');
		});
		this.#inFlight.add(work);
		void work.finally(() => this.#inFlight.delete(work));
	}

	/** Waits for the pushes under way (the hub's stop). */
	async settle(): Promise<void> {
		await Promise.all([...this.#inFlight]);
	}

	#checkEndpoint(endpoint: string): void {
		const url = new URL(endpoint);
		const host = url.hostname.toLowerCase();
		const loopback =
			host === 'localhost' || host === '[::1]' || (isIP(host) === 4 && host.startsWith('127.'));
		const { endpointHosts, allowHttpLoopback } = this.deps.config.push;
		if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback && allowHttpLoopback)) {
			throw new ProtocolError('BAD_REQUEST', 'Invalid push subscription: the endpoint must be https.');
		}
		if (!endpointHosts.some((allowed) => host === allowed || host.endsWith(`.${allowed}`))) {
			throw new ProtocolError(
				'BAD_REQUEST',
				'Invalid push subscription: the endpoint is not a push service this hub sends to.',
			);
		}
	}

	async #push(to: string, from: string): Promise<void> {
		const { store } = this.deps;
		const subscriptions = await store.push.listByUser(to);
		if (subscriptions.length === 0) return;
		const now = this.deps.now();
		// A signed-out device's subscription goes with its session.
		const live = new Set(
			(await store.sessions.listByUser(to)).filter((s) => s.expiresAt > now).map((s) => s.id),
		);
		const stale = subscriptions.filter((s) => !live.has(s.sessionId));
		await store.push.deleteMany(stale.map((s) => s.sessionId));
		const current = subscriptions.filter((s) => live.has(s.sessionId));
		if (current.length === 0) return;
		// Every hub's sockets of this user (the adapter asks the others).
		const sockets = await this.deps.io.in(this.deps.userRoom(to)).fetchSockets();
		const connected = new Set(sockets.map((socket) => socket.data.sessionId));
		const message: PushMessage = { t: 'msg', from };
		await Promise.all(
			current.map(async (subscription) => {
				if (connected.has(subscription.sessionId)) return this.#count('connected');
				const key = `${subscription.sessionId} ${from}`;
				const last = this.#lastSent.get(key);
				if (last !== undefined && now - last < this.deps.config.push.coalesceMs) {
					return this.#count('coalesced');
				}
				this.#remember(key, now);
				this.#count(await this.#send(subscription, message));
			}),
		);
	}

	async #send(subscription: PushSubscriptionRecord, message: PushMessage): Promise<PushOutcome> {
		const vapid = await this.#vapid();
		const request = webpush.generateRequestDetails(
			{ endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
			JSON.stringify(message),
			{
				vapidDetails: { subject: this.#subject(), ...vapid },
				TTL: PUSH_TTL_SECONDS,
				contentEncoding: 'aes128gcm',
				urgency: 'normal',
			},
		);
		const host = new URL(subscription.endpoint).host;
		let status: number;
		try {
			const response = await fetch(request.endpoint, {
				method: request.method,
				headers: request.headers as Record<string, string>,
				body: new Uint8Array(request.body ?? Buffer.alloc(0)),
				// A push service answers; it never redirects the hub elsewhere.
				redirect: 'error',
				signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
			});
			status = response.status;
			await response.body?.cancel();
		} catch (error) {
			this.deps.logger.warn({ err: error, host }, 'web push failed');
			return 'failed';
		}
		if (status === 404 || status === 410) {
			await this.deps.store.push.deleteEndpoint(subscription.sessionId, subscription.endpoint);
			return 'gone';
		}
		if (status < 200 || status > 299) {
			// The endpoint is a capability: only its host is logged.
			this.deps.logger.warn({ status, host }, 'web push refused');
			return 'failed';
		}
		return 'sent';
	}

	#subject(): string {
		const configured = this.deps.config.push.subject;
		if (configured) return configured;
		const origin = this.deps.config.publicOrigin ?? this.deps.origin();
		return origin.startsWith('https:') ? origin : 'mailto:postmaster@localhost';
	}

	#remember(key: string, at: number): void {
		this.#lastSent.delete(key);
		this.#lastSent.set(key, at);
		if (this.#lastSent.size > COALESCE_MAX) {
			const oldest = this.#lastSent.keys().next().value;
			if (oldest !== undefined) this.#lastSent.delete(oldest);
		}
	}

	#count(outcome: PushOutcome): void {
		this.#outcomes.inc({ outcome });
	}

	#vapid(): Promise<{ publicKey: string; privateKey: string }> {
		this.#keys ??= Promise.resolve().then(() => {
			const { vapid } = this.deps.config.push;
			return vapid ?? loadOrCreateVapidKeys(this.deps.config.dataDir);
		});
		return this.#keys;
	}
}

/**
 * The hub's VAPID key pair in DATA_DIR/vapid.json (mode 0600), made on first use. Browsers bind a
 * subscription to this key: a new key silently ends every subscription, so it is kept, not remade.
 */
export function loadOrCreateVapidKeys(dataDir: string): { publicKey: string; privateKey: string } {
	const path = join(dataDir, 'vapid.json');
	const read = () => VapidFile.parse(JSON.parse(readFileSync(path, 'utf8')));
	try {
		return read();
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
			throw new Error(`loadOrCreateVapidKeys: ${path} is unreadable or not a VAPID key pair`, {
				cause: error,
			});
		}
	}
	mkdirSync(dataDir, { recursive: true });
	const keys = webpush.generateVAPIDKeys();
	try {
		writeFileSync(path, `${JSON.stringify(keys)}\n`, { flag: 'wx', mode: 0o600 });
		return keys;
	} catch (error) {
		// Another hub on the same DATA_DIR wrote it first: theirs is the key.
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') return read();
		throw error;
	}
}
