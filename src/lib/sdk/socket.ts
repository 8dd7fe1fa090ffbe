import { io, type Socket } from 'socket.io-client';
import { ProtocolError, type Ack, type ClientToServerEvents, type ServerToClientEvents } from '../protocol';

export type HubSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface ConnectOptions {
	/** Outside a browser: the session cookie (from `HubApi.cookieHeader()`). */
	cookie?: string;
	/** Outside a browser: an Origin header (tests use it to play a foreign page). */
	origin?: string;
	autoConnect?: boolean;
}

/** A typed Socket.IO connection to the hub; in a browser the session cookie goes along by itself. */
export function connectHub(baseUrl: string, options: ConnectOptions = {}): HubSocket {
	const extraHeaders: Record<string, string> = {};
	if (options.cookie) extraHeaders.cookie = options.cookie;
	if (options.origin) extraHeaders.origin = options.origin;
	const socketOptions = {
		transports: ['websocket'],
		withCredentials: true,
		autoConnect: options.autoConnect ?? true,
		reconnectionDelayMax: 5_000,
		extraHeaders,
	};
	return baseUrl ? io(baseUrl, socketOptions) : io(socketOptions);
}

type ClientEvent = keyof ClientToServerEvents;
export type EventPayload<E extends ClientEvent> = Parameters<ClientToServerEvents[E]>[0];
export type EventData<E extends ClientEvent> =
	Parameters<Parameters<ClientToServerEvents[E]>[1]>[0] extends Ack<infer T> ? T : never;

interface AckEmitter {
	emitWithAck(event: string, payload: unknown): Promise<unknown>;
}

/** Emits an event and waits for its typed ack; a refusal or a timeout throws a ProtocolError. */
export async function call<E extends ClientEvent>(
	socket: HubSocket,
	event: E,
	payload: EventPayload<E>,
	timeoutMs = 10_000,
): Promise<EventData<E>> {
	let reply: Ack<EventData<E>>;
	try {
		const emitter = socket.timeout(timeoutMs) as unknown as AckEmitter;
		reply = (await emitter.emitWithAck(event, payload)) as Ack<EventData<E>>;
	} catch {
		throw new ProtocolError('UNAVAILABLE', `No answer from the hub to ${event} within ${timeoutMs} ms.`);
	}
	if (!reply || typeof reply !== 'object' || !('ok' in reply)) {
		throw new ProtocolError('INTERNAL', `The hub's answer to ${event} does not match the protocol.`);
	}
	if (!reply.ok) throw new ProtocolError(reply.error.code, reply.error.message);
	return reply.data;
}
