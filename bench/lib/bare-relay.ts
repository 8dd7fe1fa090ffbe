import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect } from 'socket.io-client';
import {
	EVENTS,
	LIMITS,
	syncKeyOf,
	type ClientToServerEvents,
	type ServerToClientEvents,
	type StoredEnvelope,
} from '../../src/lib/protocol';
import type { HubSocket } from '../../src/lib/sdk';

/**
 * The baseline: a bare Socket.IO relay on the protocol's own events and payloads, with none of
 * the hub's work — no session, no validation, no signature check, no storage. A client names
 * itself in the handshake; an envelope goes to the room named by its `to`, a receipt's status to
 * the room of the id's sender (kept in memory), and a sync answers an empty page.
 */
export interface BareRelay {
	url: string;
	close(): Promise<void>;
}

/** A client of a bare relay at `url`: named by the handshake, no session. */
export function connectBare(url: string, username: string): HubSocket {
	return connect(url, { transports: ['websocket'], auth: { username }, reconnection: false });
}

export async function startBareRelay(): Promise<BareRelay> {
	const http = createServer();
	const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, {
		maxHttpBufferSize: LIMITS.socketFrameMaxBytes,
		serveClient: false,
	});
	let sequence = 0;
	const senders = new Map<string, string>();
	io.on('connection', (socket) => {
		const username = String(socket.handshake.auth.username);
		void socket.join(username);
		socket.on(EVENTS.send, (envelope, ack) => {
			const storedAt = Date.now();
			// The same fields the hub adds, so the relayed frames have the hub's sizes.
			const syncKey = syncKeyOf(storedAt, String(sequence++).padStart(8, '0'));
			const relayed: StoredEnvelope = { ...envelope, state: 'live', storedAt, releasedAt: null, syncKey };
			senders.set(envelope.id, envelope.from);
			io.to(envelope.to).emit(EVENTS.messageNew, relayed);
			ack({ ok: true, data: { id: envelope.id, storedAt, syncKey, duplicate: false, state: 'live' } });
		});
		socket.on(EVENTS.receipt, ({ ids }, ack) => {
			const at = Date.now();
			ack({ ok: true, data: { count: ids.length } });
			for (const id of ids) {
				const from = senders.get(id);
				senders.delete(id);
				if (from) io.to(from).emit(EVENTS.messageStatus, { id, status: 'delivered', at });
			}
		});
		socket.on(EVENTS.sync, ({ after }, ack) => {
			const page = { envelopes: [], deleted: [], sealed: [], delivered: [], cursor: after, more: false };
			ack({ ok: true, data: { ...page, serverNow: Date.now() } });
		});
	});
	await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
	const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
	return {
		url,
		close: () => new Promise<void>((resolve) => void io.close(() => resolve())),
	};
}
