import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface HubMetrics {
	registry: Registry;
	messagesStored: Counter<'state'>;
	ackLatency: Histogram<'event' | 'outcome'>;
	/** Requests refused by sign-in throttling, by the limit that refused them (server/services/throttle). */
	signInThrottled: Counter<'limit'>;
	/** How far behind the cluster's Redis stream this hub reads (server/cluster.ts). */
	clusterStreamLag: Histogram;
	/** Times this hub found entries it had not read trimmed off the Redis stream (server/cluster.ts). */
	clusterStreamTrimmed: Counter;
	/** Reads the number of sockets connected to this hub at scrape time. */
	setSocketCounter(count: () => number): void;
}

/**
 * Metrics in a registry of their own: several hubs in one process (tests) never share counters.
 * Every series is a hub-wide total: no label names a user, an address, a conversation or an
 * envelope, and /metrics is served only to whoever holds METRICS_TOKEN or reaches METRICS_PORT.
 */
export function createMetrics(
	databaseCommands: () => ReadonlyMap<string, number> = () => new Map(),
): HubMetrics {
	const registry = new Registry();
	collectDefaultMetrics({ register: registry, prefix: 'hourglass_process_' });
	let countSockets: () => number = () => 0;
	new Gauge({
		name: 'hourglass_connected_sockets',
		help: 'Socket.IO connections open on this hub.',
		registers: [registry],
		collect() {
			this.set(countSockets());
		},
	});
	new Counter({
		name: 'hourglass_database_commands_total',
		help: 'Commands this hub sent to the database, by command and collection (its round trips).',
		labelNames: ['command', 'collection'] as const,
		registers: [registry],
		collect() {
			this.reset();
			for (const [key, count] of databaseCommands()) {
				const [command = key, collection = ''] = key.split(' ');
				this.inc({ command, collection }, count);
			}
		},
	});
	const messagesStored = new Counter({
		name: 'hourglass_messages_stored_total',
		help: 'Envelopes stored by this hub (resends not counted), by initial state.',
		labelNames: ['state'] as const,
		registers: [registry],
	});
	const ackLatency = new Histogram({
		name: 'hourglass_ack_latency_seconds',
		help: 'Time from receiving a client event to acknowledging it.',
		labelNames: ['event', 'outcome'] as const,
		buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
		registers: [registry],
	});
	const signInThrottled = new Counter({
		name: 'hourglass_signin_throttled_total',
		help: 'Auth requests refused by a request budget or a lockout, by limit (never by account or address).',
		labelNames: ['limit'] as const,
		registers: [registry],
	});
	const clusterStreamLag = new Histogram({
		name: 'hourglass_cluster_stream_lag_seconds',
		help: "For each push from any hub read off the Redis stream: the time since Redis added it (hosts' clocks).",
		buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
		registers: [registry],
	});
	const clusterStreamTrimmed = new Counter({
		name: 'hourglass_cluster_stream_trimmed_total',
		help: 'Times entries this hub had not read yet were trimmed off the Redis stream (its devices are asked to sync).',
		registers: [registry],
	});
	return {
		registry,
		messagesStored,
		ackLatency,
		signInThrottled,
		clusterStreamLag,
		clusterStreamTrimmed,
		setSocketCounter(count) {
			countSockets = count;
		},
	};
}
