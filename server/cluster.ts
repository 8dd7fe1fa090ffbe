import type { EventEmitter } from 'node:events';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Logger } from 'pino';
import type { Counter, Histogram } from 'prom-client';
import { createClient } from 'redis';
import type { StreamPosition } from './services/timelock/peers';
import type { HubServer } from './socket/types';

/**
 * How long after a hint each device may wait before it syncs (it picks a random moment within):
 * after a Redis restart every hub hints at once, and this spreads the database reads that follow.
 */
export const SYNC_HINT_SPREAD_MS = 2_000;

/** The hub's link to the other hubs through Redis. */
export interface ClusterLink {
	/** A client for commands of the hub's own (sign-in throttling); it fails fast while Redis is away. */
	commands: RedisClient;
	/**
	 * Redis's time of the stream entry this hub read last (the one being handled, during an
	 * event's handlers) and this hub's time when it read it; null before the first, or when the
	 * adapter does not say (see `timeStreamReads`).
	 */
	position(): StreamPosition | null;
	/** Closes the Redis clients without waiting on a Redis that is away. Safe to call twice. */
	close(): Promise<void>;
}

export type RedisClient = ReturnType<typeof createClient>;

/**
 * Entries the adapter reads off the stream in one round trip (its default is 100). Every push to a
 * room, from every hub, is an entry that every hub reads, one read at a time: with the default, a
 * burst of time-lock releases through two hubs (about 2,600 entries a second) left a hub reading
 * up to 0.9 s behind; see docs/OPERATIONS.md, "Several hubs".
 */
const STREAM_READ_COUNT = 1_000;
/** The adapter's stream (its default name), named here because the trim check reads its state. */
const STREAM_NAME = 'socket.io';
/**
 * How often a hub asks Redis whether the entry it read last was trimmed off the stream (`XINFO
 * STREAM`, one small command): the stream keeps about `streamMaxLen` entries, so the hub is that
 * far behind, and entries after it are trimmed too, or soon will be, unread (their pushes lost).
 */
const TRIM_CHECK_EVERY_MS = 1_000;
/** While a hub stays behind, it asks its devices to sync at most this often. */
const TRIM_HINT_EVERY_MS = 5_000;

export interface ClusterOptions {
	url: string;
	/** About how many entries the stream keeps (REDIS_STREAM_MAX_LEN). */
	streamMaxLen: number;
	logger: Logger;
	metrics: { streamLag: Histogram; streamTrimmed: Counter };
	/**
	 * Pushes from other hubs may have been lost: every Redis client is ready again after one of
	 * them dropped, or entries this hub had not read were trimmed off the stream. Devices should sync.
	 */
	onMaybeMissed: () => void;
}

/** The part of the adapter that hands each entry read off the stream on, with the entry's id. */
interface StreamReader {
	onRawMessage?: (message: unknown, offset: string) => unknown;
}

/**
 * Connects the Socket.IO Redis Streams adapter (see docs/OPERATIONS.md, "Several hubs", for why
 * streams rather than pub/sub) and calls `onMaybeMissed` each time every Redis client it uses is
 * ready again after one of them dropped, and each time it finds that entries it had not read were
 * trimmed off the stream (a hub more than `streamMaxLen` entries behind).
 *
 * Nothing here may reject unobserved while Redis is away (a process that crashes on a Redis
 * restart was the fault): every client has an error listener, and the publishing client refuses
 * commands at once instead of queueing them, so a push that cannot reach the other hubs fails fast
 * (the adapter catches it) and the local devices still get theirs.
 */
export async function joinCluster(io: HubServer, options: ClusterOptions): Promise<ClusterLink> {
	const { url, metrics, onMaybeMissed } = options;
	const log = options.logger.child({ component: 'cluster' });
	const down = new Set<EventEmitter>();
	let dropped = false;
	let closing = false;

	const watch = (client: EventEmitter, role: string) => {
		client.on('error', (error: unknown) => {
			if (!closing) log.warn({ err: error, role }, 'redis error');
		});
		client.on('end', () => {
			if (closing) return;
			down.add(client);
			dropped = true;
		});
		client.on('reconnecting', () => {
			down.add(client);
			dropped = true;
		});
		client.on('ready', () => {
			down.delete(client);
			if (dropped && down.size === 0 && !closing) {
				dropped = false;
				log.info('redis is back: devices are asked to sync');
				onMaybeMissed();
			}
		});
	};

	// The publishing client fails fast while Redis is away; see the comment above.
	const publisher: RedisClient = createClient({ url, disableOfflineQueue: true });
	watch(publisher, 'publish');
	// The adapter duplicates this client for its stream readers and its subscriber: those must
	// queue while Redis is away (a reader that failed at once would spin), and are watched too.
	const patchable = publisher as unknown as {
		duplicate: RedisClient['duplicate'];
		publish: RedisClient['publish'];
	};
	const duplicate = publisher.duplicate.bind(publisher);
	patchable.duplicate = ((overrides?: Parameters<RedisClient['duplicate']>[0]) => {
		const copy = duplicate({ ...overrides, disableOfflineQueue: false });
		watch(copy, 'read');
		return copy;
	}) as RedisClient['duplicate'];
	// The adapter publishes some requests without looking at the outcome: catch them at the source.
	const publish = publisher.publish.bind(publisher);
	patchable.publish = ((...args: Parameters<RedisClient['publish']>) =>
		publish(...args).catch((error: unknown) => {
			log.warn({ err: error }, 'redis publish failed');
			return 0;
		})) as RedisClient['publish'];

	await publisher.connect();
	io.adapter(
		createAdapter(publisher, {
			streamName: STREAM_NAME,
			maxLen: options.streamMaxLen,
			readCount: STREAM_READ_COUNT,
		}),
	);
	let position: StreamPosition | null = null;
	/** The id of the entry read last. */
	let lastRead: string | null = null;
	const reading = timeStreamReads(io.of('/').adapter as StreamReader, (read, offset) => {
		position = read;
		lastRead = offset;
		metrics.streamLag.observe(Math.max(0, read.readAt - read.entryAt) / 1000);
	});
	if (!reading)
		log.warn(
			'the Redis adapter no longer says which stream entry it reads: stream lag is not measured, hubs are judged silent by this hub’s clock',
		);

	let hintedAt = Number.NEGATIVE_INFINITY;
	const checkTrimmed = async () => {
		if (lastRead === null || !publisher.isReady) return;
		const readUpTo = lastRead;
		try {
			const first = firstEntryId(await publisher.sendCommand(['XINFO', 'STREAM', STREAM_NAME]));
			if (first === null || compareEntryIds(readUpTo, first) >= 0) return;
			if (Date.now() - hintedAt < TRIM_HINT_EVERY_MS) return;
			hintedAt = Date.now();
			metrics.streamTrimmed.inc();
			log.warn(
				{ readUpTo, firstKept: first },
				'the stream was trimmed past what this hub had read: devices are asked to sync',
			);
			onMaybeMissed();
		} catch (error) {
			log.debug({ err: error }, 'the stream trim check failed');
		}
	};
	const trimCheck = setInterval(() => void checkTrimmed(), TRIM_CHECK_EVERY_MS);
	trimCheck.unref();

	let closed: Promise<void> | null = null;
	return {
		commands: publisher,
		position: () => position,
		close() {
			closed ??= (async () => {
				closing = true;
				clearInterval(trimCheck);
				// The adapter closes its own readers when Socket.IO closes; this closes the rest.
				if (publisher.isReady) await publisher.close();
				else if (publisher.isOpen) publisher.destroy();
			})();
			return closed;
		},
	};
}

/**
 * Tells `read`, before the adapter handles each entry it reads off the stream (this hub's own
 * included), when Redis added it (a stream entry's id starts with Redis's time in milliseconds)
 * and when it is read. A hub that reads far behind delivers pushes late, and one that falls further
 * behind than the stream keeps (the adapter's `maxLen`, 10,000 entries) misses some. False if the
 * adapter has no such hook (a version that changed it).
 */
function timeStreamReads(
	adapter: StreamReader,
	read: (position: StreamPosition, offset: string) => void,
): boolean {
	const { onRawMessage } = adapter;
	if (typeof onRawMessage !== 'function') return false;
	adapter.onRawMessage = (message, offset) => {
		const entryAt = Number.parseInt(offset, 10);
		if (Number.isFinite(entryAt)) read({ entryAt, readAt: Date.now() }, offset);
		return onRawMessage.call(adapter, message, offset);
	};
	return true;
}

/**
 * The id of the oldest entry the stream still holds, from an `XINFO STREAM` reply (its
 * `first-entry`: `[id, fields]`), or null when the stream is empty. (Redis 7.0's
 * `max-deleted-entry-id` would say more, but it does not move when XADD trims.)
 */
export function firstEntryId(reply: unknown): string | null {
	const field = (name: string): unknown => {
		if (reply instanceof Map) return reply.get(name);
		if (!Array.isArray(reply)) return undefined;
		const at = reply.findIndex((item, i) => i % 2 === 0 && String(item) === name);
		return at >= 0 ? reply[at + 1] : undefined;
	};
	const first = field('first-entry');
	const id = Array.isArray(first) ? String(first[0]) : '';
	return /^\d+-\d+$/.test(id) ? id : null;
}

/** Orders two stream entry ids (`<ms>-<seq>`). */
export function compareEntryIds(a: string, b: string): number {
	const [aMs, aSeq] = a.split('-').map(BigInt);
	const [bMs, bSeq] = b.split('-').map(BigInt);
	if (aMs !== bMs) return aMs < bMs ? -1 : 1;
	if (aSeq !== bSeq) return (aSeq ?? 0n) < (bSeq ?? 0n) ? -1 : 1;
	return 0;
}
