import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { LIMITS, type ActivityEvent, type ActivityResponse, type ActivityType } from '../../src/lib/protocol';
import type { HubConfig } from '../config';
import type { Store } from '../store';
import { coarsePlace, describeDevice } from './device-info';
import type { SignInFailure } from './throttle';

/** Where an event came from: a request's agent and network, or the session's (a SessionRecord is one). */
export interface Origin {
	userAgent: string;
	/** The network prefix (coarsePlace), never the address. */
	place: string | null;
}

/** The origin of a request: its address cut to its network at once. */
export function originOf(client: { userAgent: string; ip: string }): Origin {
	return { userAgent: client.userAgent, place: coarsePlace(client.ip) };
}

/** What an event says beyond its type and origin (see ActivityEvent). */
export type ActivityDetail = Pick<ActivityEvent, 'newDevice' | 'reason' | 'count' | 'until'>;

/** Ids sort by time: the hub time zero-padded, then 48 random bits, so two events of one ms differ. */
function activityId(at: number): string {
	return `${String(at).padStart(13, '0')}-${randomBytes(6).toString('base64url')}`;
}

/**
 * Each user's activity log: sign-ins and failures, new devices, password and two-factor changes,
 * recovery codes spent, sessions revoked, lockouts. Each event goes to pino first (operators see
 * every one, even when the database refuses the write) and then to the user's log, kept
 * ACTIVITY_DAYS. A failure to store it is logged, never thrown: a sign-in is not refused because
 * its record could not be written. Nothing secret is recorded: the device is the name read from the
 * user agent, the place the network prefix (docs/SECURITY.md, "Activity log").
 */
export class ActivityService {
	/** The time of this hub's last event: the next is at least 1 ms later, so one hub's events keep their order. */
	#lastAt = 0;

	constructor(
		private readonly store: Store,
		private readonly config: HubConfig,
		private readonly now: () => number,
		private readonly logger: Logger,
	) {}

	/** Records an event of `username`'s account. */
	async record(username: string, type: ActivityType, origin: Origin | null, detail: ActivityDetail = {}) {
		const at = Math.max(this.now(), this.#lastAt + 1);
		this.#lastAt = at;
		const event: ActivityEvent = {
			id: activityId(at),
			at,
			type,
			device: origin ? describeDevice(origin.userAgent) : null,
			place: origin?.place ?? null,
			...detail,
		};
		this.logger.info({ user: username, event }, 'activity');
		try {
			await this.store.activity.insert({ ...event, username });
		} catch (error) {
			this.logger.warn({ err: error, activity: type, user: username }, 'activity event not stored');
		}
	}

	/**
	 * Records an event that a stranger can cause under any name (a failed sign-in, a lockout): kept
	 * in the log only if the account exists, so nobody fills the log of a name not yet registered.
	 */
	async recordIfUser(
		username: string,
		type: ActivityType,
		origin: Origin | null,
		detail: ActivityDetail = {},
	) {
		let exists: boolean;
		try {
			exists = (await this.store.users.get(username)) !== null;
		} catch (error) {
			this.logger.warn({ err: error, activity: type, user: username }, 'activity event not stored');
			return;
		}
		if (exists) await this.record(username, type, origin, detail);
		else this.logger.info({ event: { type, place: origin?.place ?? null }, unknownUser: true }, 'activity');
	}

	/** The throttle's listener: a wrong password or code, and the lockout it may have started. */
	async signInFailed(failure: SignInFailure): Promise<void> {
		const origin = originOf(failure);
		await this.recordIfUser(failure.username, 'sign-in-failed', origin, { reason: failure.reason });
		if (failure.lockedUntil !== null) {
			await this.recordIfUser(failure.username, 'lockout', origin, { until: failure.lockedUntil });
		}
	}

	/** A page of the user's log, newest first. */
	async list(username: string, query: { before?: string; limit?: number }): Promise<ActivityResponse> {
		const limit = query.limit ?? LIMITS.activityPageMax;
		const events = await this.store.activity.page(username, query.before, limit + 1);
		return { events: events.slice(0, limit), more: events.length > limit };
	}

	/** Forgets the events older than ACTIVITY_DAYS; returns how many went. */
	prune(): Promise<number> {
		return this.store.activity.deleteBefore(this.now() - this.config.activityDays * 86_400_000);
	}
}
