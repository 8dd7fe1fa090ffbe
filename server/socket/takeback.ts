import { EVENTS } from '../../src/lib/protocol';
import type { HubContext } from '../context';
import { bindEvent, type BindDeps } from './handler';
import type { HubSocket } from './types';

/** `message:delete` (delete for everyone): the service checks the sender, the window and the signature. */
export function bindTakebackEvents(ctx: HubContext, deps: BindDeps, socket: HubSocket): void {
	bindEvent(deps, socket, EVENTS.messageDelete, async (request, call) => {
		const { result, tell } = await ctx.services.takeback.deleteForEveryone(call.actor.username, request);
		call.afterAck(tell);
		return result;
	});
}
