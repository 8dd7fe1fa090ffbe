import type { Logger } from 'pino';
import type { HubConfig } from '../config';
import type { Store } from '../store';
import type { ActivityService } from './activity';
import type { AuthService } from './auth';
import type { FileService } from './files';
import type { Notifier } from './notify';

const BATCH = 500;

export interface SweepReport {
	sessionsEnded: number;
	envelopesPurged: number;
	/** Sign-in throttling events past their keep (database counts only; Redis expires its own). */
	throttleExpired: number;
	/** Activity log events older than ACTIVITY_DAYS. */
	activityExpired: number;
	/** Files deleted with their purged envelopes, and uploads abandoned (never sent within FILE_ABANDON_HOURS). */
	filesPurged: number;
}

/**
 * What a TTL index would do, done in code (FerretDB has no TTL indexes): ends idle sessions
 * and their sockets, purges envelopes delivered more than RETENTION_DAYS ago and cancelled
 * ones (and tombstones) as old, with the files they carry, purges disappearing messages whose timer ran out since their first delivery, deletes uploads never sent within FILE_ABANDON_HOURS, forgets sign-in throttling counts past their keep and activity older than ACTIVITY_DAYS. Every hub may sweep; deletes are idempotent, so several sweepers agree.
 */
export class MaintenanceService {
	#timer: NodeJS.Timeout | null = null;
	#running: Promise<SweepReport> | null = null;
	#stopping = false;

	constructor(
		private readonly store: Store,
		private readonly config: HubConfig,
		private readonly notify: Notifier,
		private readonly auth: AuthService,
		private readonly activity: ActivityService,
		private readonly files: FileService,
		private readonly now: () => number,
		private readonly logger: Logger,
	) {}

	start(everyMs: number): void {
		if (this.#timer) clearInterval(this.#timer);
		this.#stopping = false;
		this.#timer = setInterval(() => {
			this.sweep().catch((error: unknown) => this.logger.warn({ err: error }, 'maintenance sweep failed'));
		}, everyMs);
		this.#timer.unref();
	}

	/**
	 * Stops the timer and lets a sweep in flight end at its next batch, so the hub does not close the
	 * store under it (which failed the sweep with a closed connection on every shutdown of a busy hub).
	 * What it leaves undone, the next sweep of any hub does: every step is idempotent.
	 */
	async stop(): Promise<void> {
		if (this.#timer) clearInterval(this.#timer);
		this.#timer = null;
		this.#stopping = true;
		// A failure of the sweep itself is reported by whoever started it.
		await this.#running?.catch(() => undefined);
	}

	/** One sweep; a call while one runs waits for that one instead of starting another. */
	sweep(): Promise<SweepReport> {
		this.#running ??= this.#sweep().finally(() => {
			this.#running = null;
		});
		return this.#running;
	}

	async #sweep(): Promise<SweepReport> {
		const now = this.now();
		const sessionsEnded = await this.#inBatches(async () => {
			const ids = await this.store.sessions.expired(now, BATCH);
			await this.store.sessions.deleteMany(ids);
			// Forgotten by every hub's session cache before their sockets are told.
			await this.auth.ended(ids, 'expired');
			for (const id of ids) this.notify.endSession(id, 'expired');
			return ids.length;
		});
		const cutoff = now - this.config.retentionDays * 86_400_000;
		let filesPurged = 0;
		let envelopesPurged = await this.#inBatches(async () => {
			const ids = (await this.store.receipts.olderThan(cutoff, BATCH)).map((r) => r.id);
			// Files, then envelopes, then receipts: a crash in between leaves a receipt that the next sweep retries.
			filesPurged += await this.store.files.deleteFilesOf(ids);
			await this.store.envelopes.deleteMany(ids);
			await this.store.receipts.deleteMany(ids);
			return ids.length;
		});
		envelopesPurged += await this.#inBatches(async () => {
			const ids = await this.store.envelopes.cancelledBefore(cutoff, BATCH);
			filesPurged += await this.store.files.deleteFilesOf(ids);
			await this.store.envelopes.deleteMany(ids);
			return ids.length;
		});
		// Disappearing messages whose timer ran out since their first delivery.
		envelopesPurged += await this.#inBatches(async () => {
			const ids = (await this.store.expiries.due(now, BATCH)).map((e) => e.id);
			// Files and envelope first: a crash in between leaves the expiry, which the next sweep retries.
			filesPurged += await this.store.files.deleteFilesOf(ids);
			await this.store.envelopes.deleteMany(ids);
			await this.store.receipts.deleteMany(ids);
			await this.store.expiries.deleteMany(ids);
			return ids.length;
		});
		filesPurged += await this.#unlessStopping(() => this.files.sweepAbandoned(BATCH));
		const throttleExpired = await this.#unlessStopping(() => this.store.throttle.sweep(now));
		const activityExpired = await this.#unlessStopping(() => this.activity.prune());
		if (sessionsEnded + envelopesPurged + activityExpired + filesPurged > 0) {
			this.logger.info({ sessionsEnded, envelopesPurged, activityExpired, filesPurged }, 'maintenance sweep');
		}
		return { sessionsEnded, envelopesPurged, throttleExpired, activityExpired, filesPurged };
	}

	/** Runs one batch after another until a batch comes back short or the hub stops; the total handled. */
	async #inBatches(batch: () => Promise<number>): Promise<number> {
		let total = 0;
		while (!this.#stopping) {
			const handled = await batch();
			total += handled;
			if (handled < BATCH) break;
		}
		return total;
	}

	#unlessStopping(step: () => Promise<number>): Promise<number> {
		return this.#stopping ? Promise.resolve(0) : step();
	}
}
