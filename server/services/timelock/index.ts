import { Counter, Gauge, Histogram } from 'prom-client';
import type { HubContext, HubExtension, HubHooks } from '../../context';
import { timelockHandlers } from '../../socket/timelock';
import { TimelockScheduler, type SchedulerOptions } from './scheduler';
import { TimelockService } from './service';

export { TimelockScheduler } from './scheduler';
export { TimelockService } from './service';

export interface TimelockOptions {
	/** Scheduler tuning; the clock is always the hub's. */
	scheduler?: Omit<SchedulerOptions, 'source' | 'release' | 'clock'>;
}

/** How often decided envelopes' locked copies are removed, and how many per delete. */
const REMOVE_COPIES_EVERY_MS = 1_000;
const REMOVE_COPIES_SLICE = 250;
/**
 * Copies are removed when nothing falls due this soon, or regardless past this many waiting (ids
 * only: bounded memory). High, because a delete during a burst holds the releases up (FerretDB).
 */
const QUIET_MS = 1_000;
const COPIES_BACKLOG_MAX = 100_000;

/**
 * The time-lock extension of a hub: its scheduler releases due envelopes, its handlers answer
 * `timelock:list` and `timelock:cancel`. Every hub over the same database runs one.
 */
export function timelockHooks(options: TimelockOptions = {}): HubHooks {
	return { setup: (ctx) => setupTimelocks(ctx, options) };
}

function setupTimelocks(ctx: HubContext, options: TimelockOptions): HubExtension {
	const logger = ctx.logger.child({ component: 'timelock' });
	const registers = [ctx.metrics.registry];
	const released = new Counter({
		name: 'hourglass_timelock_released_total',
		help: 'Time-locked envelopes this hub released.',
		registers,
	});
	const lateness = new Histogram({
		name: 'hourglass_timelock_release_lateness_seconds',
		help: 'How long after its unlock time (hub clock) this hub told devices of a released envelope.',
		buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
		registers,
	});
	const claimsLost = new Counter({
		name: 'hourglass_timelock_claims_lost_total',
		help: 'Releases this hub attempted that another decision (another hub, or a cancel) had already taken.',
		registers,
	});
	const cancelled = new Counter({
		name: 'hourglass_timelock_cancelled_total',
		help: 'Time-locked envelopes cancelled by their sender on this hub.',
		registers,
	});
	const errors = new Counter({
		name: 'hourglass_timelock_errors_total',
		help: 'Scheduler refills and release batches that failed (retried).',
		labelNames: ['during'] as const,
		registers,
	});

	const service = new TimelockService({
		store: ctx.store,
		notify: ctx.notify,
		now: ctx.now,
		logger,
		onReleased: (_envelope, latenessMs) => {
			released.inc();
			lateness.observe(Math.max(0, latenessMs) / 1000);
		},
		onClaimLost: () => claimsLost.inc(),
	});
	const scheduler = new TimelockScheduler({
		...options.scheduler,
		clock: {
			now: ctx.now,
			setTimer(callback, delayMs) {
				const handle = setTimeout(callback, delayMs);
				return () => clearTimeout(handle);
			},
		},
		source: service,
		release: (ids) => service.release(ids),
		onError: (error, during) => {
			errors.inc({ during });
			logger.warn({ err: error, during }, 'time-lock scheduler step failed; retrying');
		},
	});
	new Gauge({
		name: 'hourglass_timelock_waiting',
		help: 'Locked envelopes due within the scheduler window, held in memory by this hub.',
		registers,
		collect() {
			this.set(scheduler.stats().waiting);
		},
	});

	const timers: NodeJS.Timeout[] = [];
	// A delete competes with releases for the database (on FerretDB's SQLite backend it reads the
	// whole collection), so copies wait for a quiet moment unless too many are waiting.
	const quiet = () => {
		const stats = scheduler.stats();
		return stats.releasing === 0 && (stats.nextDueAt === null || stats.nextDueAt > ctx.now() + QUIET_MS);
	};
	let removing: Promise<void> | null = null;
	const removeCopies = async () => {
		while (service.copiesToRemove > 0 && (quiet() || service.copiesToRemove > COPIES_BACKLOG_MAX)) {
			await service.removeCopies(REMOVE_COPIES_SLICE);
		}
	};
	const every = (ms: number, task: () => Promise<void>, what: string) => {
		const timer = setInterval(() => {
			task().catch((error: unknown) => logger.warn({ err: error }, `${what} failed`));
		}, ms);
		timer.unref();
		timers.push(timer);
	};

	return {
		onLockedStored(stored) {
			if (stored.unlockAt === null) return;
			// Only what falls due within the scheduler's window is held in memory.
			if (scheduler.notify({ id: stored.id, unlockAt: stored.unlockAt })) service.remember(stored);
		},
		handlers: timelockHandlers(ctx, service, {
			onCancelled: (id) => {
				scheduler.forget(id);
				cancelled.inc();
			},
		}),
		async start() {
			every(
				REMOVE_COPIES_EVERY_MS,
				async () => {
					removing ??= removeCopies().finally(() => (removing = null));
					await removing;
				},
				'removing decided locked copies',
			);
			await scheduler.start();
			const stats = scheduler.stats();
			logger.info({ waiting: stats.waiting, hub: ctx.hubId }, 'time-lock scheduler started');
		},
		async stop() {
			for (const timer of timers.splice(0)) clearInterval(timer);
			await scheduler.stop();
			await removing?.catch(() => {});
			service.clear();
		},
	};
}
