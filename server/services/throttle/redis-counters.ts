import { randomUUID } from 'node:crypto';
import { ProtocolError } from '../../../src/lib/protocol';
import type { RedisClient } from '../../cluster';
import type { ThrottleCounters } from '../../store';

const PREFIX = 'hourglass:throttle:';

/**
 * The throttling counts in Redis when the hubs have one: a sorted set per key, its members the
 * events scored by time. Redis expires the key itself; members older than the newest event's
 * keep are dropped as events are added. A Redis that cannot be reached refuses the sign-in with
 * UNAVAILABLE rather than letting it through uncounted.
 */
export function redisCounters(client: RedisClient): ThrottleCounters {
	const run = async <T>(command: () => Promise<T>): Promise<T> => {
		try {
			return await command();
		} catch (error) {
			if (error instanceof ProtocolError) throw error;
			throw new ProtocolError(
				'UNAVAILABLE',
				'The hub cannot reach Redis to count sign-in attempts; try again shortly.',
			);
		}
	};
	return {
		add: (key, at, expiresAt) =>
			run(async () => {
				const id = randomUUID();
				const keepMs = Math.max(1, expiresAt - at);
				await client
					.multi()
					.zAdd(PREFIX + key, { score: at, value: id })
					.zRemRangeByScore(PREFIX + key, '-inf', `(${at - keepMs}`)
					.pExpire(PREFIX + key, keepMs)
					.exec();
				return id;
			}),
		count: (key) => run(() => client.zCard(PREFIX + key)),
		events: (key) =>
			run(async () => {
				const members = await client.zRangeWithScores(PREFIX + key, 0, -1);
				return members.map((member) => ({ id: member.value, at: member.score }));
			}),
		remove: (key, id) =>
			run(async () => {
				await client.zRem(PREFIX + key, id);
			}),
		clear: (key) =>
			run(async () => {
				await client.del(PREFIX + key);
			}),
		// Redis expires the keys itself.
		sweep: () => Promise.resolve(0),
	};
}
