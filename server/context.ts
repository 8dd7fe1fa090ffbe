import type { Logger } from 'pino';
import type { HubConfig } from './config';
import type { HubMetrics } from './metrics';
import type { AccountService } from './services/account';
import type { ActivityService } from './services/activity';
import type { AuthService } from './services/auth';
import type { ContactService } from './services/contacts';
import type { DeviceService } from './services/devices';
import type { FileService } from './services/files';
import type { MaintenanceService } from './services/maintenance';
import type { MessageService } from './services/messages';
import type { Notifier } from './services/notify';
import type { PushService } from './services/push';
import type { TakebackService } from './services/takeback';
import type { SignInThrottle } from './services/throttle';
import type { Timelocks } from './services/timelock';
import type { TwoFactorService } from './services/two-factor';
import type { HubServer } from './socket/types';
import type { Store } from './store';

export interface HubServices {
	account: AccountService;
	activity: ActivityService;
	auth: AuthService;
	contacts: ContactService;
	devices: DeviceService;
	files: FileService;
	messages: MessageService;
	maintenance: MaintenanceService;
	push: PushService;
	timelocks: Timelocks;
	takeback: TakebackService;
	throttle: SignInThrottle;
	twoFactor: TwoFactorService;
}

/** Everything a hub is made of, handed to its socket and HTTP wiring. */
export interface HubContext {
	/** Random per process: names this hub to the others (time-lock shares) and in logs. */
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
