import { EVENTS } from '../../src/lib/protocol';
import type { HubContext } from '../context';
import type { BindDeps } from './handler';
import { bindEvent } from './handler';
import type { HubSocket } from './types';

/** message:send, sync:pull, message:received and time:sync: the relay's events. */
export function bindMessageEvents(ctx: HubContext, deps: BindDeps, socket: HubSocket): void {
	const { messages } = ctx.services;

	bindEvent(deps, socket, EVENTS.send, async (envelope, call) => {
		const { result, stored, fresh } = await messages.send(call.actor.username, envelope);
		if (!fresh) return result;
		ctx.metrics.messagesStored.inc({ state: stored.state });
		call.afterAck(() => {
			if (stored.state === 'live') {
				ctx.notify.messageNew(stored, { recipient: true, sender: true }, call.socket.id);
				return;
			}
			// Locked: only the sender's other devices see it; the recipient at most learns that it is coming.
			ctx.notify.messageNew(stored, { recipient: false, sender: true }, call.socket.id);
			if (stored.announce && stored.unlockAt !== null) {
				ctx.notify.sealed({
					id: stored.id,
					from: stored.from,
					to: stored.to,
					sentAt: stored.sentAt,
					unlockAt: stored.unlockAt,
				});
			}
			ctx.services.timelocks.stored(stored);
		});
		return result;
	});

	bindEvent(deps, socket, EVENTS.sync, (request, call) => messages.sync(call.actor.username, request));

	bindEvent(deps, socket, EVENTS.receipt, async (request, call) => {
		const outcome = await messages.receipt(call.actor.username, request.ids);
		call.afterAck(() => {
			for (const r of outcome.recorded)
				ctx.notify.status(r.from, { id: r.id, status: 'delivered', at: r.at });
		});
		return { count: outcome.count };
	});

	bindEvent(deps, socket, EVENTS.timeSync, () => Promise.resolve({ serverNow: ctx.now() }));
}
