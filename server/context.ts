import type { Logger } from 'pino';
import type { StoredEnvelope } from '../src/lib/protocol';
import type { HubConfig } from './config';
import type { HubMetrics } from './metrics';
import type { AuthService } from './services/auth';
import type { MaintenanceService } from './services/maintenance';
import type { MessageService } from './services/messages';
import type { Notifier } from './services/notify';
import type { EventHandler, HubServer } from './socket/types';
import type { Store } from './store';

export interface HubServices {
	auth: AuthService;
	messages: MessageService;
	maintenance: MaintenanceService;
}

/** Everything a hub is made of, handed to extensions (the time-lock scheduler) at setup. */
export interface HubContext {
	/** Random per process: says which hub won a claim, in logs and claim records. */
	hubId: string;
	config: HubConfig;
	logger: Logger;
	/** The hub's clock (ms since the epoch); the one time-locks are judged by. */
	now: () => number;
	store: Store;
	io: HubServer;
	notify: Notifier;
	metrics: HubMetrics;
	services: HubServices;
}

/**
 * The seam through which the time-lock scheduler plugs into the hub core.
 *
 * The core stores a time-locked envelope (state "locked"), acknowledges it, shows it to the
 * sender's devices, announces it to the recipient when asked, and then calls `onLockedStored`.
 * Releasing and cancelling belong to the extension: it decides with `store.envelopes.release`
 * or `cancel` (the insert of the settled copy under the envelope's unique id: the first decision
 * wins and is applied in the same write), then tells devices through `notify`.
 *
 * Lifecycle: `setup(ctx)` runs once the store, services and Socket.IO server exist and before the
 * hub listens; `start()` runs right after it listens; `stop()` runs first when the hub stops,
 * before sockets and the database close.
 */
export interface HubExtension {
	/** A locked envelope was stored and acknowledged (never called for a resend of a stored one). */
	onLockedStored?(stored: StoredEnvelope): void;
	/** The client events the core leaves to the extension; unregistered ones answer UNAVAILABLE. */
	handlers?: {
		'timelock:list'?: EventHandler<'timelock:list'>;
		'timelock:cancel'?: EventHandler<'timelock:cancel'>;
	};
	start?(): void | Promise<void>;
	stop?(): void | Promise<void>;
}

export interface HubHooks {
	setup(ctx: HubContext): HubExtension | Promise<HubExtension>;
}
