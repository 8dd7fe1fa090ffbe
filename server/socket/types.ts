import type { Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { CacheChange } from '../services/read-cache';
import type {
	Ack,
	CLIENT_EVENT_SCHEMAS,
	ClientToServerEvents,
	ServerToClientEvents,
	SessionEnded,
	StoredEnvelope,
} from '../../src/lib/protocol';

/** What the session middleware puts on every socket: identity comes from here, never from a payload. */
export interface SocketData {
	username: string;
	sessionId: string;
	/** When the session was last confirmed in the database (it is re-checked now and then). */
	checkedAt: number;
	/** The session's last touch as the handshake saw it: the keep-alive of open sockets starts from it. */
	lastSeenAt: number;
}

/**
 * What hubs tell each other through the adapter, beside the rooms: sessions that ended, that they
 * are alive, and the time-locks they schedule and settle (server/services/timelock). Hubs trust each
 * other; a scheduled lock travels whole, ciphertext included, as every relayed message does.
 */
export interface InterServerEvents {
	/** A session ended on one hub: every other hub forgets it and marks it ended, and confirms. */
	'session:forget': (sessionId: string, reason: SessionEnded['reason'], done: (answer: true) => void) => void;
	/**
	 * A heartbeat, whether the hub has time-lock releases under way, and how many `timelock:due`
	 * notices it has sent (the last two absent from older hubs).
	 */
	'hub:alive': (hubId: string, releasing?: boolean, notices?: number) => void;
	'hub:leaving': (hubId: string) => void;
	/** A contact relation or push subscriptions changed on one hub: the others drop their cached copy. */
	'cache:forget': (change: CacheChange, done: (answer: true) => void) => void;
	/** Locks a hub stored that fall due within the window; the hub and the notice's number (from 1) absent from older hubs. */
	'timelock:due': (envelopes: StoredEnvelope[], hubId?: string, n?: number) => void;
	/**
	 * Ids settled (released, cancelled, removed), the hub that settled them, and which of them it
	 * released (the last two absent from older hubs).
	 */
	'timelock:settled': (ids: string[], hubId?: string, released?: string[]) => void;
}

export type HubServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type HubSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export type ClientEvent = keyof ClientToServerEvents;

/** The payload of a client event after parsing with its shared schema. */
export type EventPayload<E extends ClientEvent> = z.output<(typeof CLIENT_EVENT_SCHEMAS)[E]>;

/** The data of a successful ack for a client event, read off the event map. */
export type EventResult<E extends ClientEvent> = Parameters<ClientToServerEvents[E]>[1] extends (
	reply: Ack<infer T>,
) => void
	? T
	: never;

/** The signed-in user a socket speaks for. */
export interface Actor {
	username: string;
	sessionId: string;
}

export interface HandlerCall {
	actor: Actor;
	socket: HubSocket;
	/** Runs `fn` once the ack has been sent: save, then acknowledge, then emit. */
	afterAck(fn: () => void | Promise<void>): void;
}

/** A client event's logic: gets the parsed payload, returns the ack's data or throws a ProtocolError. */
export type EventHandler<E extends ClientEvent> = (
	payload: EventPayload<E>,
	call: HandlerCall,
) => Promise<EventResult<E>>;
