import type { HubContext, HubExtension } from '../context';
import type { TimelockService } from '../services/timelock/service';

export interface TimelockHandlerHooks {
	/** The envelope is cancelled for good: the scheduler must not fire it. */
	onCancelled(id: string): void;
}

/**
 * `timelock:list` and `timelock:cancel`. The core's wrapper has already parsed the payload with
 * the shared schema and confirmed the session; the user is the session's, never the payload's.
 */
export function timelockHandlers(
	ctx: HubContext,
	service: TimelockService,
	hooks: TimelockHandlerHooks,
): NonNullable<HubExtension['handlers']> {
	return {
		'timelock:list': async (_request, call) => ({ items: await service.list(call.actor.username) }),
		'timelock:cancel': async (request, call) => {
			const outcome = await service.cancel(call.actor.username, request.id);
			hooks.onCancelled(request.id);
			call.afterAck(() => ctx.notify.cancelled(outcome.event, { sender: true, recipient: outcome.announce }));
			return outcome.result;
		},
	};
}
