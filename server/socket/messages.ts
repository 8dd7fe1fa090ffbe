import { EVENTS, type StoredEnvelope } from '../../src/lib/protocol';
import type { HubContext } from '../context';
import type { BindDeps } from './handler';
import { bindEvent } from './handler';
import type { HubSocket } from './types';

/** message:send, sync:pull, message:received and time:sync: the relay's events. */
export function bindMessageEvents(ctx: HubContext, deps: BindDeps, socket: HubSocket): void {
	const { messages } = ctx.services;

	bindEvent(deps, socket, EVENTS.send, async (envelope, call) => {
		const outcome = await messages.send(call.actor.username, envelope);
		if (outcome.fresh) ctx.metrics.messagesStored.inc({ state: outcome.stored.state });
		call.afterAck(() => {
			messages.announce(outcome, call.socket.id);
			if (outcome.fresh && outcome.stored.state === 'locked') ctx.services.timelocks.stored(outcome.stored);
		});
		return outcome.result;
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

	// Pushes reach this socket from whichever hub stored the envelope (through the adapter).
	socket.onAnyOutgoing((event: string, envelope: StoredEnvelope) => {
		if (event === EVENTS.messageNew) messages.handedOver([envelope]);
	});
}
