import type { Logger } from 'pino';
import { ProtocolError, type DeviceSession, type RevokeSessionsRequest } from '../../src/lib/protocol';
import type { Store } from '../store';
import { TOUCH_EVERY_MS, type AuthService, type EndReason } from './auth';
import type { ActivityService, Origin } from './activity';
import { describeDevice } from './device-info';
import type { Notifier } from './notify';

/** Sessions a list shows at most, the most recently seen first (the current one always). */
const LIST_MAX = 200;
/** Database writes (or reads) a keep-alive pass has in flight at once. */
const PASS_CONCURRENCY = 4;

/** The signed-in user and session a request speaks for (never taken from its body). */
export interface SessionActor {
	username: string;
	sessionId: string;
}

export interface KeepAliveReport {
	/** Sessions whose expiry this pass slid. */
	touched: number;
	/** Sessions found gone while a socket of theirs was still here: those sockets were ended. */
	ended: number;
}

/**
 * A user's devices: every session is one, listed and revocable from the others. A device with a
 * socket open on this hub is in use even when nobody types: this hub slides the expiry of the
 * sessions connected to it, once per TOUCH_EVERY_MS each, so a quiet open tab is never signed out.
 */
export class DeviceService {
	#timer: NodeJS.Timeout | null = null;
	#running: Promise<KeepAliveReport> | null = null;
	/** Sessions with a socket on this hub → when their expiry last slid, by the hub's clock. */
	#touchedAt = new Map<string, number>();

	constructor(
		private readonly store: Store,
		private readonly auth: AuthService,
		private readonly notify: Notifier,
		private readonly now: () => number,
		private readonly logger: Logger,
		private readonly activity: ActivityService,
	) {}

	/** The user's live sessions, the most recently seen first; the actor's own is marked `current`. */
	async list(actor: SessionActor): Promise<DeviceSession[]> {
		const now = this.now();
		const [sessions, subscriptions] = await Promise.all([
			this.store.sessions.listByUser(actor.username),
			this.store.push.listByUser(actor.username),
		]);
		const pushed = new Set(subscriptions.map((s) => s.sessionId));
		return sessions
			.filter((s) => s.expiresAt > now && this.auth.endedReason(s.id) === null)
			.map((s): DeviceSession => ({
				id: s.id,
				device: describeDevice(s.userAgent),
				createdAt: s.createdAt,
				// The current device is the one asking, now.
				lastSeenAt: s.id === actor.sessionId ? now : s.lastSeenAt,
				expiresAt: s.expiresAt,
				place: s.place,
				trusted: s.trusted,
				push: pushed.has(s.id),
				current: s.id === actor.sessionId,
			}))
			.sort((a, b) => b.lastSeenAt - a.lastSeenAt || b.createdAt - a.createdAt)
			.slice(0, LIST_MAX);
	}

	/**
	 * Signs one of the user's devices out (NOT_FOUND for an id that is not theirs, so nobody learns
	 * of other users' sessions), or every device but the actor's. Their sockets end at once on every
	 * hub, and no handshake that overlaps the revocation survives it (AuthService.endedReason).
	 */
	async revoke(actor: SessionActor, request: RevokeSessionsRequest, origin: Origin): Promise<number> {
		const ids =
			'id' in request
				? [request.id]
				: (await this.store.sessions.listByUser(actor.username))
						.map((s) => s.id)
						.filter((id) => id !== actor.sessionId);
		const revoked = await this.store.sessions.deleteOwned(actor.username, ids);
		if ('id' in request && revoked === 0) {
			throw new ProtocolError('NOT_FOUND', 'You have no session with this id.');
		}
		await this.#end(ids, 'revoked');
		await this.activity.record(actor.username, 'sessions-revoked', origin, { count: revoked });
		return revoked;
	}

	/** A socket of this session joined this hub; `lastSeenAt` is the session's last touch as its handshake saw it. */
	connected(sessionId: string, lastSeenAt: number): void {
		const known = this.#touchedAt.get(sessionId);
		if (known === undefined || lastSeenAt > known) this.#touchedAt.set(sessionId, lastSeenAt);
	}

	start(everyMs: number): void {
		this.stop();
		this.#timer = setInterval(() => {
			this.keepConnectedAlive().catch((error: unknown) =>
				this.logger.warn({ err: error }, 'session keep-alive failed'),
			);
		}, everyMs);
		this.#timer.unref();
	}

	stop(): void {
		if (this.#timer) clearInterval(this.#timer);
		this.#timer = null;
	}

	/** One keep-alive pass; a call while one runs waits for that one instead of starting another. */
	keepConnectedAlive(): Promise<KeepAliveReport> {
		this.#running ??= this.#keepAlive().finally(() => {
			this.#running = null;
		});
		return this.#running;
	}

	/**
	 * Reads every session connected to this hub from the database, and ends the sockets of those
	 * that are gone: run when this hub's link to the others is back, since a logout or revocation
	 * announced meanwhile may not have reached it. Returns how many sessions it ended.
	 */
	async recheckConnected(): Promise<number> {
		const now = this.now();
		const gone: string[] = [];
		await eachAtMost(PASS_CONCURRENCY, this.notify.connectedSessions(), async (id) => {
			const session = await this.store.sessions.get(id);
			if (!session || session.expiresAt <= now) gone.push(id);
		});
		await this.#end(gone, 'revoked');
		if (gone.length > 0)
			this.logger.info({ sessionsEnded: gone.length }, 'sessions ended while the hubs were apart');
		return gone.length;
	}

	async #keepAlive(): Promise<KeepAliveReport> {
		const now = this.now();
		const connected = new Set(this.notify.connectedSessions());
		for (const id of this.#touchedAt.keys()) if (!connected.has(id)) this.#touchedAt.delete(id);
		const due = [...connected].filter((id) => now - (this.#touchedAt.get(id) ?? -Infinity) >= TOUCH_EVERY_MS);
		const gone: string[] = [];
		let touched = 0;
		let failed: unknown = null;
		await eachAtMost(PASS_CONCURRENCY, due, async (id) => {
			try {
				if (await this.auth.keepAlive(id)) {
					this.#touchedAt.set(id, now);
					touched++;
				} else gone.push(id);
			} catch (error) {
				// Left due: the next pass tries again, long before the session could expire.
				failed = error;
			}
		});
		await this.#end(gone, 'revoked');
		if (failed) this.logger.warn({ err: failed }, 'some connected sessions could not be kept alive');
		return { touched, ended: gone.length };
	}

	async #end(ids: string[], reason: EndReason): Promise<void> {
		if (ids.length === 0) return;
		await this.auth.ended(ids, reason);
		for (const id of ids) this.notify.endSession(id, reason);
	}
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function eachAtMost<T>(
	limit: number,
	items: Iterable<T>,
	fn: (item: T) => Promise<void>,
): Promise<void> {
	const queue = [...items];
	const worker = async () => {
		for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
	};
	await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, worker));
}
