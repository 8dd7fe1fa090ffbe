import { EVENTS } from '../../src/lib/protocol';
import type { HubContext } from '../context';
import { bindEvent, type BindDeps } from './handler';
import type { HubSocket } from './types';

/**
 * `timelock:list` and `timelock:cancel`. The wrapper has already parsed the payload with the
 * shared schema and confirmed the session; the user is the session's, never the payload's.
 */
export function bindTimelockEvents(ctx: HubContext, deps: BindDeps, socket: HubSocket): void {
	const { timelocks } = ctx.services;
	bindEvent(deps, socket, EVENTS.timelockList, async (_request, call) => ({
		items: await timelocks.list(call.actor.username),
	}));
	bindEvent(deps, socket, EVENTS.timelockCancel, async (request, call) => {
		const { result, tell } = await timelocks.cancel(call.actor.username, request.id);
		call.afterAck(tell);
		return result;
	});
}
