import type { EventEmitter } from 'node:events';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Logger } from 'pino';
import type { Counter, Histogram } from 'prom-client';
import { createClient } from 'redis';
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
 * How often a hub asks Redis whether the entry it read last was trimmed off the stream (one
 * `XRANGE` of at most one entry): the stream keeps about `streamMaxLen` entries, so the hub is
 * that far behind, and entries after it are trimmed too, or soon will be, unread (pushes lost).
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
	/** The id of the entry read last. */
	let lastRead: string | null = null;
	const reading = timeStreamReads(io.of('/').adapter as StreamReader, (offset, addedAt) => {
		lastRead = offset;
		metrics.streamLag.observe(Math.max(0, Date.now() - addedAt) / 1000);
	});
	if (!reading)
		log.warn(
			'the Redis adapter no longer says which stream entry it reads: stream lag is not measured, a trimmed stream is not noticed',
		);

	let hintedAt = Number.NEGATIVE_INFINITY;
	const checkTrimmed = async () => {
		if (lastRead === null || !publisher.isReady) return;
		const readUpTo = lastRead;
		try {
			// The oldest entry kept, if it is not newer than the one read last. (A Redis that came back
			// empty answers none too, until this hub reads its first new entry: one more hint, harmless.)
			const kept = await publisher.sendCommand(['XRANGE', STREAM_NAME, '-', readUpTo, 'COUNT', '1']);
			if (!Array.isArray(kept) || kept.length > 0) return;
			if (Date.now() - hintedAt < TRIM_HINT_EVERY_MS) return;
			hintedAt = Date.now();
			metrics.streamTrimmed.inc();
			log.warn({ readUpTo }, 'the stream was trimmed past what this hub had read: devices are asked to sync');
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
 * included), its id and when Redis added it (an entry's id starts with Redis's time in
 * milliseconds). A hub that reads far behind delivers pushes late, and one that falls further
 * behind than the stream keeps (REDIS_STREAM_MAX_LEN) misses some (see joinCluster). False if the
 * adapter has no such hook (a version that changed it).
 */
function timeStreamReads(adapter: StreamReader, read: (offset: string, addedAt: number) => void): boolean {
	const { onRawMessage } = adapter;
	if (typeof onRawMessage !== 'function') return false;
	adapter.onRawMessage = (message, offset) => {
		const addedAt = Number.parseInt(offset, 10);
		if (Number.isFinite(addedAt)) read(offset, addedAt);
		return onRawMessage.call(adapter, message, offset);
	};
	return true;
}
