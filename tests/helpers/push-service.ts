import {
	createDecipheriv,
	createECDH,
	createPublicKey,
	hkdfSync,
	randomBytes,
	verify,
	type ECDH,
} from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One push message as the local push service took it: the checked VAPID claims and the decrypted text. */
export interface ReceivedPush {
	/** The subscription's path on this service (one per subscribed browser). */
	path: string;
	/** When it arrived, by this process's clock. */
	at: number;
	plaintext: string;
	claims: { aud: string; exp: number; sub: string };
	ttl: number;
	urgency: string | null;
}

/** What a browser gives the hub (`PushSubscription.toJSON()`); its private half stays in the service. */
export interface BrowserSubscription {
	endpoint: string;
	keys: { p256dh: string; auth: string };
}

/**
 * A push service on loopback that does what a real one and the browser behind it would: it refuses
 * a push whose VAPID JWT (RFC 8292) is not an ES256 signature by the expected key over claims for
 * its own origin that have not expired, and decrypts the aes128gcm body (RFC 8188, RFC 8291) with
 * the subscription's private key and auth secret. Refusals are recorded in `rejected`.
 */
export class LocalPushService {
	readonly received: ReceivedPush[] = [];
	readonly rejected: string[] = [];
	#events = new EventEmitter();
	#subscriptions = new Map<string, { ecdh: ECDH; auth: Buffer; status: number }>();

	private constructor(
		private readonly server: Server,
		readonly origin: string,
		/** The hub's VAPID public key (base64url): the only signer this service accepts. */
		private readonly vapidKey: () => string,
	) {}

	static async start(vapidKey: () => string): Promise<LocalPushService> {
		let service: LocalPushService | null = null;
		const server = createServer((request, response) => {
			void service?.handle(request).then(
				(status) => response.writeHead(status).end(),
				() => response.writeHead(500).end(),
			);
		});
		server.listen(0, '127.0.0.1');
		await once(server, 'listening');
		const { port } = server.address() as AddressInfo;
		service = new LocalPushService(server, `http://127.0.0.1:${port}`, vapidKey);
		return service;
	}

	/** A new browser subscription, as `pushManager.subscribe()` would give it. */
	subscribe(): BrowserSubscription {
		const ecdh = createECDH('prime256v1');
		ecdh.generateKeys();
		const auth = randomBytes(16);
		const path = `/push/${randomBytes(12).toString('hex')}`;
		const sub: BrowserSubscription = {
			endpoint: `${this.origin}${path}`,
			keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
		};
		this.#subscriptions.set(path, { ecdh, auth, status: 201 });
		return sub;
	}

	/** From now on, answers pushes to `subscription` as a push service does for an ended one (410 Gone). */
	expire(subscription: BrowserSubscription): void {
		const entry = this.#subscriptions.get(new URL(subscription.endpoint).pathname);
		if (entry) entry.status = 410;
	}

	/** Resolves with the next push that reaches `subscription` (or the first already received). */
	next(subscription: BrowserSubscription, after = 0, timeoutMs = 15_000): Promise<ReceivedPush> {
		const path = new URL(subscription.endpoint).pathname;
		const seen = this.received.filter((p) => p.path === path);
		if (seen.length > after) return Promise.resolve(seen[after]);
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#events.off('push', listener);
				reject(new Error(`no push reached ${path} within ${timeoutMs} ms`));
			}, timeoutMs);
			const listener = () => {
				const now = this.received.filter((p) => p.path === path);
				if (now.length <= after) return;
				clearTimeout(timer);
				this.#events.off('push', listener);
				resolve(now[after]);
			};
			this.#events.on('push', listener);
		});
	}

	count(subscription: BrowserSubscription): number {
		const path = new URL(subscription.endpoint).pathname;
		return this.received.filter((p) => p.path === path).length;
	}

	async stop(): Promise<void> {
		this.server.closeAllConnections();
		await new Promise<void>((done) => this.server.close(() => done()));
	}

	private async handle(request: IncomingMessage): Promise<number> {
		const chunks: Buffer[] = [];
		for await (const chunk of request) chunks.push(chunk as Buffer);
		const body = Buffer.concat(chunks);
		const path = new URL(request.url ?? '/', this.origin).pathname;
		const subscription = this.#subscriptions.get(path);
		if (request.method !== 'POST' || !subscription) return this.#reject(404, `no subscription at ${path}`);
		let claims: ReceivedPush['claims'];
		try {
			claims = this.#checkVapid(request.headers.authorization ?? '');
		} catch (error) {
			return this.#reject(403, (error as Error).message);
		}
		if (request.headers['content-encoding'] !== 'aes128gcm') {
			return this.#reject(415, `content-encoding ${request.headers['content-encoding']}`);
		}
		const ttl = Number(request.headers.ttl);
		if (!Number.isInteger(ttl) || ttl < 0) return this.#reject(400, 'no TTL');
		let plaintext: string;
		try {
			plaintext = decryptAes128gcm(body, subscription.ecdh, subscription.auth);
		} catch (error) {
			return this.#reject(400, `undecryptable: ${(error as Error).message}`);
		}
		if (subscription.status === 201) {
			const urgency = request.headers.urgency;
			this.received.push({
				path,
				at: Date.now(),
				plaintext,
				claims,
				ttl,
				urgency: typeof urgency === 'string' ? urgency : null,
			});
			this.#events.emit('push');
		}
		return subscription.status;
	}

	#reject(status: number, why: string): number {
		this.rejected.push(why);
		this.#events.emit('rejected');
		return status;
	}

	/** `vapid t=<JWT>, k=<public key>` (RFC 8292 §3): the key must be the hub's, the signature its. */
	#checkVapid(header: string): ReceivedPush['claims'] {
		const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header);
		if (!match) throw new Error(`Authorization is not VAPID: ${header.slice(0, 20)}`);
		const [, jwt, k] = match;
		if (k !== this.vapidKey()) throw new Error('VAPID key is not the hub’s');
		const [head, payload, signature] = jwt.split('.');
		const jose = JSON.parse(Buffer.from(head, 'base64url').toString()) as { alg?: string };
		if (jose.alg !== 'ES256') throw new Error(`JWT alg ${jose.alg}`);
		const point = Buffer.from(k, 'base64url');
		const key = createPublicKey({
			key: {
				kty: 'EC',
				crv: 'P-256',
				x: point.subarray(1, 33).toString('base64url'),
				y: point.subarray(33, 65).toString('base64url'),
			},
			format: 'jwk',
		});
		const signed = verify(
			'sha256',
			Buffer.from(`${head}.${payload}`),
			{ key, dsaEncoding: 'ieee-p1363' },
			Buffer.from(signature, 'base64url'),
		);
		if (!signed) throw new Error('VAPID signature does not verify');
		const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as ReceivedPush['claims'];
		if (claims.aud !== this.origin) throw new Error(`JWT aud ${claims.aud}`);
		const now = Math.floor(Date.now() / 1000);
		// RFC 8292 §2: no more than 24 hours ahead.
		if (!(claims.exp > now && claims.exp <= now + 86_400)) throw new Error(`JWT exp ${claims.exp}`);
		if (!/^(mailto:|https:)/.test(claims.sub)) throw new Error(`JWT sub ${claims.sub}`);
		return claims;
	}
}

function hkdf(salt: Buffer, ikm: Buffer, info: Buffer, length: number): Buffer {
	return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}

/**
 * Opens an aes128gcm body (RFC 8188) as the browser does (RFC 8291 §3.4): the header carries the
 * salt, the record size and the sender's ephemeral public key; the content key and nonce come from
 * ECDH with the subscription's private key, mixed with the auth secret.
 */
export function decryptAes128gcm(body: Buffer, ua: ECDH, authSecret: Buffer): string {
	const salt = body.subarray(0, 16);
	const recordSize = body.readUInt32BE(16);
	const idLength = body[20];
	const asPublic = body.subarray(21, 21 + idLength);
	if (idLength !== 65) throw new Error(`keyid of ${idLength} bytes`);
	const records = body.subarray(21 + idLength);
	if (records.length > recordSize) throw new Error('more than one record');
	const uaPublic = ua.getPublicKey();
	const ecdhSecret = ua.computeSecret(asPublic);
	const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
	const ikm = hkdf(authSecret, ecdhSecret, keyInfo, 32);
	const cek = hkdf(salt, ikm, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
	const nonce = hkdf(salt, ikm, Buffer.from('Content-Encoding: nonce\0'), 12);
	const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
	decipher.setAuthTag(records.subarray(records.length - 16));
	const padded = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()]);
	// The last record ends with the delimiter 0x02, then any zero padding.
	let end = padded.length - 1;
	while (end >= 0 && padded[end] === 0) end--;
	if (padded[end] !== 2) throw new Error('no last-record delimiter');
	return padded.subarray(0, end).toString('utf8');
}
