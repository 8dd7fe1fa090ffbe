import type {
	Cancelled,
	ContactChanged,
	MessageStatus,
	SealedNotice,
	SessionEnded,
	StoredEnvelope,
	SyncHint,
	Tombstone,
} from '../../src/lib/protocol';
import { EVENTS } from '../../src/lib/protocol';
import type { HubServer } from '../socket/types';
import type { PushService } from './push';

/** Socket.IO rooms: every socket joins its user's room and its session's room. */
export const rooms = {
	user: (username: string) => `user:${username}`,
	session: (sessionId: string) => `session:${sessionId}`,
};

/**
 * Every server-to-client event goes out through here, by room, so it reaches the right devices
 * on whichever hub they are connected to (the Redis adapter carries rooms across hubs).
 */
export class Notifier {
	constructor(
		private readonly io: HubServer,
		private readonly push: PushService,
	) {}

	/**
	 * A stored envelope to the given parties' devices, except the socket that sent it; and a Web
	 * Push of who wrote to the recipient's devices with no socket, for a message (not a control).
	 */
	messageNew(
		envelope: StoredEnvelope,
		to: { recipient: boolean; sender: boolean },
		exceptSocketId?: string,
	): void {
		const targets: string[] = [];
		if (to.recipient) targets.push(rooms.user(envelope.to));
		if (to.sender) targets.push(rooms.user(envelope.from));
		if (targets.length === 0) return;
		const operator = exceptSocketId ? this.io.to(targets).except(exceptSocketId) : this.io.to(targets);
		operator.emit(EVENTS.messageNew, envelope);
		if (to.recipient && envelope.kind === 'text') this.push.messageFor(envelope.to, envelope.from);
	}

	/** An announced time-lock: the recipient learns that something is coming, and when; no ciphertext. */
	sealed(notice: SealedNotice): void {
		this.io.to(rooms.user(notice.to)).emit(EVENTS.sealedNew, notice);
	}

	status(sender: string, status: MessageStatus): void {
		this.io.to(rooms.user(sender)).emit(EVENTS.messageStatus, status);
	}

	cancelled(event: Cancelled, to: { recipient: boolean; sender: boolean }): void {
		const targets: string[] = [];
		if (to.recipient) targets.push(rooms.user(event.to));
		if (to.sender) targets.push(rooms.user(event.from));
		if (targets.length > 0) this.io.to(targets).emit(EVENTS.cancelled, event);
	}

	/** A change to `owner`'s contacts, to all their devices (the one that made it included). */
	contactChanged(owner: string, change: ContactChanged): void {
		this.io.to(rooms.user(owner)).emit(EVENTS.contactsChanged, change);
	}

	/** A message deleted for everyone: to every device of both parties. */
	deleted(tombstone: Tombstone): void {
		this.io.to([rooms.user(tombstone.from), rooms.user(tombstone.to)]).emit(EVENTS.messageDeleted, tombstone);
	}

	/** Asks every connected device, on every hub, to sync; each waits a random moment up to `withinMs`. */
	syncHint(withinMs: number): void {
		const hint: SyncHint = { reason: 'relay-restored', withinMs };
		this.io.emit(EVENTS.syncHint, hint);
	}

	/** The sessions with a socket on this hub, read off this hub's own rooms. */
	connectedSessions(): string[] {
		const prefix = rooms.session('');
		const ids: string[] = [];
		for (const room of this.io.of('/').adapter.rooms.keys()) {
			if (room.startsWith(prefix)) ids.push(room.slice(prefix.length));
		}
		return ids;
	}

	/** Tells every socket of a session why it ends, then disconnects them all (on every hub). */
	endSession(sessionId: string, reason: SessionEnded['reason']): void {
		const room = rooms.session(sessionId);
		this.io.to(room).emit(EVENTS.sessionEnded, { reason });
		this.io.in(room).disconnectSockets();
	}
}
