import type { Logger } from 'pino';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { CancelResult, StoredEnvelope } from '../../../src/lib/protocol';
import type { HubMetrics } from '../../metrics';
import type { HubServer, InterServerEvents } from '../../socket/types';
import type { RecentEnvelopes } from '../recent-envelopes';
import type { Store } from '../../store';
import type { Notifier } from '../notify';
import { HEARTBEAT_EVERY_MS, HubPeers } from './peers';
import { TimelockScheduler } from './scheduler';
import { TimelockService } from './service';

export { TimelockScheduler } from './scheduler';

/** What hubs tell each other about time-locks (declared in InterServerEvents). */
type HubsTell = Pick<InterServerEvents, 'hub:alive' | 'hub:leaving' | 'timelock:due' | 'timelock:settled'>;

/**
 * Most locks in one `timelock:due` message: about 1 KiB each, so a message stays well under
 * what Redis and the other hubs read in one go.
 */
const DUE_NOTICE_MAX = 256;
/**
 * With other hubs, the due slots from this long ago to the horizon are read again this often,
 * whatever was heard: the one loss a hub cannot hear of is that of a hub whose Redis link broke,
 * that stored locks meanwhile (its notices of them lost) and that died before its link came back
 * to say so. Those wait at most about this long past their unlock time. A slot read costs what
 * those few slots hold (equalities), not a range over every lock waiting.
 */
const REREAD_SLOTS_EVERY_MS = 5 * 60_000;

export interface TimelockDeps {
	hubId: string;
	store: Store;
	notify: Notifier;
	io: HubServer;
	/** True when other hubs share this one's adapter (Redis): they are told what this one schedules and settles. */
	clustered: boolean;
	now: () => number;
	logger: Logger;
	metrics: HubMetrics;
	/** Where released envelopes are remembered, so their receipts need no read (MessageService). */
	recent: RecentEnvelopes;
}

/**
 * Time-locked envelopes, a core part of every hub: each hub runs a scheduler that releases due
 * locks at their unlock time by its own clock, answers the sender's list and cancel, and, with
 * other hubs, shares the releases out and takes over those of a hub that goes away.
 *
 * Hubs learn of each other through the adapter: a heartbeat, the locks each stores (due within
 * the window), and the ids each settles. All of that only saves work and time; none of it is
 * needed for correctness: every hub's refill reads every lock from the database, and the release
 * itself is the unique insert, so lost messages between hubs cost a duplicate attempt, never a
 * duplicate release.
 */
export class Timelocks {
	readonly #deps: TimelockDeps;
	readonly #logger: Logger;
	readonly #peers: HubPeers;
	readonly #service: TimelockService;
	readonly #scheduler: TimelockScheduler;
	readonly #cancelled: Counter;
	#heartbeat: NodeJS.Timeout | null = null;
	#rereadTimer: NodeJS.Timeout | null = null;
	/** How many `timelock:due` notices this hub has sent (each numbered), told in every heartbeat. */
	#noticesSent = 0;
	#dueToTell: StoredEnvelope[] = [];
	#dueFlush: NodeJS.Immediate | null = null;

	constructor(deps: TimelockDeps) {
		this.#deps = deps;
		this.#logger = deps.logger.child({ component: 'timelock' });
		const peers = (this.#peers = new HubPeers(deps.hubId, deps.now));
		const registers = [deps.metrics.registry];
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
		this.#cancelled = new Counter({
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
		new Gauge({
			name: 'hourglass_timelock_hubs_alive',
			help: 'Hubs this hub counts as alive (itself included) when it shares out the releases.',
			registers,
			collect() {
				this.set(peers.alive().length);
			},
		});

		this.#service = new TimelockService({
			store: deps.store,
			notify: deps.notify,
			now: deps.now,
			logger: this.#logger,
			peers: this.#peers,
			onSettled: (ids, released) => this.#tellPeers('timelock:settled', ids, deps.hubId, released),
			onReleased: (envelope, latenessMs) => {
				deps.recent.remember(envelope);
				released.inc();
				lateness.observe(Math.max(0, latenessMs) / 1000);
			},
			onClaimLost: () => claimsLost.inc(),
			// Its recipient's receipt may come here: known, it needs no read (RecentEnvelopes).
			onReleasedElsewhere: (envelope) => deps.recent.remember(envelope),
		});
		const scheduler = (this.#scheduler = new TimelockScheduler({
			now: deps.now,
			source: this.#service,
			release: (ids) => this.#service.release(ids),
			onError: (error, during) => {
				errors.inc({ during });
				this.#logger.warn({ err: error, during }, 'time-lock scheduler step failed; retrying');
			},
		}));
		new Gauge({
			name: 'hourglass_timelock_waiting',
			help: 'Locked envelopes due within the scheduler window, held in memory by this hub.',
			registers,
			collect() {
				this.set(scheduler.stats().waiting);
			},
		});
	}

	/** A locked envelope was stored and acknowledged: schedule it here, and on every other hub. */
	stored(envelope: StoredEnvelope): void {
		if (envelope.state !== 'locked' || envelope.unlockAt === null) return;
		const ref = { id: envelope.id, unlockAt: envelope.unlockAt };
		// Only what falls due within the window is held in memory; a refill finds the rest.
		if (this.#scheduler.notify(ref)) {
			this.#service.remember(envelope);
			this.#announceDue(envelope);
		}
	}

	/** The sender's own still-locked envelopes, soonest unlock first. */
	list(username: string): Promise<StoredEnvelope[]> {
		return this.#service.list(username);
	}

	/**
	 * Cancels `username`'s locked envelope `id`. `tell` informs the sender's devices, and the
	 * recipient's when the lock was announced; the caller runs it once the cancel is acknowledged.
	 */
	async cancel(username: string, id: string): Promise<{ result: CancelResult; tell: () => void }> {
		const outcome = await this.#service.cancel(username, id);
		this.#scheduler.forget(id);
		this.#cancelled.inc();
		const { notify } = this.#deps;
		return {
			result: outcome.result,
			tell: () => notify.cancelled(outcome.event, { sender: true, recipient: outcome.announce }),
		};
	}

	/**
	 * Locked envelopes removed with a deleted account: no hub may release them from memory.
	 * Told to the other hubs as settled, which makes them forget the ids too.
	 */
	removed(ids: string[]): void {
		if (ids.length === 0) return;
		for (const id of ids) this.#scheduler.forget(id);
		this.#service.settledElsewhere(ids);
		this.#tellPeers('timelock:settled', ids, this.#deps.hubId, []);
	}

	/** Loads what is due (what fell due while no hub ran included) and joins the other hubs. */
	async start(): Promise<void> {
		if (this.#deps.clustered) {
			const { io } = this.#deps;
			io.on('hub:alive', (hubId, releasing, notices) => {
				if (typeof hubId !== 'string') return;
				const count = typeof notices === 'number' ? notices : undefined;
				if (this.#peers.heard(hubId, releasing === true, count)) this.#readAll('notices missed', hubId);
			});
			io.on('hub:leaving', (hubId) => {
				this.#peers.left(hubId);
				this.#watchPeers();
			});
			io.on('timelock:due', (envelopes, hubId, n) => {
				if (typeof hubId === 'string' && typeof n === 'number' && this.#peers.noticed(hubId, n)) {
					this.#readAll('notices missed', hubId);
				}
				for (const envelope of envelopes) {
					if (envelope?.state !== 'locked' || typeof envelope.unlockAt !== 'number') continue;
					if (this.#scheduler.notify({ id: envelope.id, unlockAt: envelope.unlockAt })) {
						this.#service.remember(envelope);
					}
				}
			});
			io.on('timelock:settled', (ids, hubId, released) => {
				if (typeof hubId === 'string') this.#peers.progressed(hubId);
				const valid = ids.filter((id) => typeof id === 'string');
				for (const id of valid) this.#scheduler.forget(id);
				this.#service.settledElsewhere(valid, new Set(Array.isArray(released) ? released : []));
			});
			this.#tellPeers('hub:alive', this.#deps.hubId, false, this.#noticesSent);
			// Each beat also looks for hubs that stopped beating, so that their share moves within a
			// beat of their being counted out (PEER_TIMEOUT_MS).
			this.#heartbeat = setInterval(() => {
				const releasing = this.#scheduler.stats().releasing > 0;
				this.#tellPeers('hub:alive', this.#deps.hubId, releasing, this.#noticesSent);
				this.#watchPeers();
			}, HEARTBEAT_EVERY_MS);
			this.#heartbeat.unref();
			this.#rereadTimer = setInterval(() => {
				// Back a little further than the period, so that consecutive reads overlap.
				this.#service.wantSlotsAgain(this.#deps.now() - 2 * REREAD_SLOTS_EVERY_MS);
				void this.#scheduler.refill();
			}, REREAD_SLOTS_EVERY_MS);
			this.#rereadTimer.unref();
		}
		// Locks stored before due slots existed get theirs, so that the slot reads see them (once).
		const backfilled = await this.#deps.store.envelopes.backfillDueSlots();
		if (backfilled > 0) this.#logger.info({ backfilled }, 'gave older time-locks their due slot');
		await this.#scheduler.start();
		this.#logger.info(
			{ waiting: this.#scheduler.stats().waiting, hub: this.#deps.hubId },
			'time-lock scheduler started',
		);
	}

	/** Stops releasing (what is under way finishes) and hands this hub's share to the others at once. */
	async stop(): Promise<void> {
		if (this.#heartbeat) clearInterval(this.#heartbeat);
		this.#heartbeat = null;
		if (this.#rereadTimer) clearInterval(this.#rereadTimer);
		this.#rereadTimer = null;
		this.#flushDue();
		await this.#scheduler.stop();
		this.#tellPeers('hub:leaving', this.#deps.hubId);
		await this.#service.settle();
		this.#service.clear();
	}

	/** Best effort: a message the adapter cannot carry now is made up for by refills and the unique insert. */
	#tellPeers<E extends keyof HubsTell>(event: E, ...args: Parameters<HubsTell[E]>): void {
		if (!this.#deps.clustered) return;
		try {
			// socket.io types serverSideEmit's arguments per event; they are checked by the signature above.
			(this.#deps.io.serverSideEmit as (event: string, ...args: unknown[]) => boolean)(event, ...args);
		} catch (error) {
			this.#logger.debug({ err: error, event }, 'telling the other hubs failed');
		}
	}

	/**
	 * Tells the other hubs of locks stored here, in one message per turn of the event loop rather
	 * than one per lock: a burst of sends would otherwise put as many entries on the adapter's
	 * stream (which keeps only the last 10,000) for every other hub to read.
	 */
	#announceDue(envelope: StoredEnvelope): void {
		if (!this.#deps.clustered) return;
		this.#dueToTell.push(envelope);
		if (this.#dueToTell.length >= DUE_NOTICE_MAX) return this.#flushDue();
		this.#dueFlush ??= setImmediate(() => this.#flushDue());
	}

	#flushDue(): void {
		if (this.#dueFlush) clearImmediate(this.#dueFlush);
		this.#dueFlush = null;
		const envelopes = this.#dueToTell;
		this.#dueToTell = [];
		if (envelopes.length === 0) return;
		// Numbered even when it cannot be sent: the next heartbeat that gets through says it was.
		this.#noticesSent += 1;
		this.#tellPeers('timelock:due', envelopes, this.#deps.hubId, this.#noticesSent);
	}

	/**
	 * What the other hubs said may not all have reached this one: its Redis link is back after a
	 * drop, or entries it had not read were trimmed off the adapter's stream. Every lock is read again.
	 */
	othersMaybeMissed(): void {
		if (this.#deps.clustered) this.#readAll('redis link restored, or stream trimmed past this hub');
	}

	/** Reads every lock due within the window again (not only the slots entering it), at once. */
	#readAll(why: string, hubId?: string): void {
		this.#logger.warn({ why, hub: hubId }, 'reading every time-lock again');
		this.#service.wantFullRead();
		void this.#scheduler.refill();
	}

	/**
	 * Another hub went silent or left: its share is this hub's and the others' from now on (see
	 * HubPeers.ownerOf), and its locks due within the window are in memory here already (it told
	 * of each, and a notice that was lost made this hub read them all when the loss showed: see
	 * `heard`). No read, then: reading every lock as a burst falls due made releases seconds late.
	 */
	#watchPeers(): void {
		const gone = this.#peers.departed();
		if (gone.length === 0) return;
		this.#logger.warn({ hubs: gone }, 'hub gone: taking over its share of the time-locks');
	}
}
