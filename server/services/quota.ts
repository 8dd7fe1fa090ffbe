import { LIMITS, ProtocolError, type Envelope } from '../../src/lib/protocol';
import type { HubConfig } from '../config';
import { base64urlBytes, type Store } from '../store';

/**
 * A count older than this is read again from the store before it refuses a send, so that receipts,
 * cancels and sends recorded through other hubs are seen within it. Short: a refusal at the limit
 * is rare and costs a few count queries.
 */
const UNDELIVERED_REFRESH_MS = 2_000;
/**
 * The same for stored bytes. Longer: reading them adds up every envelope the user sent (in the
 * database, but on the embedded engine it decodes each one), and stored bytes only shrink when the
 * retention sweep purges delivered envelopes, days later.
 */
const BYTES_REFRESH_MS = 60_000;
/**
 * The same for what a stranger has stored for someone (a message request). Short, like the
 * undelivered count: a decline through another hub empties it, and a refusal re-reads it first.
 */
const REQUEST_REFRESH_MS = 2_000;
/**
 * Readings of counts run at once, at most, on one hub; the rest queue. A reading grows with what
 * the user stored, and after a failover every sender's first send asks for one. One reading takes
 * up to four connections (the pair's four counts) of the store's pool (STORE_POOL_SIZE, 10): left
 * unbounded, the readings of every new sender at once could take them all from the sends' own
 * queries. Sends go on meanwhile on trust (FIRST_READ_WAIT_MS), and a healthy reading takes
 * milliseconds.
 */
const READINGS_AT_ONCE = 1;
/** The setting that says envelope sizes were backfilled (its value: when). */
const SIZES_SETTING = 'envelope-sizes-backfilled';
/** Counts and buckets kept per hub; past it the least recently used are forgotten (and read again if needed). */
const ENTRIES_MAX = 100_000;
/**
 * How long a send waits for the first reading of a count this hub has never read before it is let
 * through on trust (within `provisionalMax`). A reading takes milliseconds on a healthy database;
 * after a failover or a deploy every sender's first send on a hub reads at once, and on the
 * embedded engine those readings took 1.5-5.5 s each (docs/OPERATIONS.md, Fairness): holding every
 * first send that long stalls the whole relay. A second is well above a healthy reading.
 */
export const FIRST_READ_WAIT_MS = 1_000;

interface Count {
	/** The count; before its first reading lands, what was let through on trust meanwhile. */
	value: number;
	/** When it was last read; 0 while it never was. */
	readAt: number;
	/** Set while the count is read from the store: callers wait for it rather than read twice. */
	reading: Promise<void> | null;
	/** Its first reading outlasted a send's patience: later sends go on trust without waiting. */
	late: boolean;
}

interface CountsOptions {
	read: (key: string) => Promise<number>;
	refreshMs: number;
	/**
	 * What may be let through on trust while a count's first reading is slower than a send's
	 * patience (0: always wait). The reading then adds it: a user already at a limit gets at most
	 * this much more, once per hub that newly sees them.
	 */
	provisionalMax: number;
	now: () => number;
}

/**
 * How long one send waits for first readings (FIRST_READ_WAIT_MS in all, from the first it waits
 * for: the readings a send needs wait side by side, not one after the other).
 */
class Patience {
	#timer: NodeJS.Timeout | undefined;
	#over: Promise<void> | undefined;

	constructor(private readonly ms: number) {}

	/** Resolves when the send has waited long enough. */
	over(): Promise<void> {
		this.#over ??= new Promise((resolve) => {
			this.#timer = setTimeout(resolve, this.ms);
		});
		return this.#over;
	}

	end(): void {
		clearTimeout(this.#timer);
	}
}

/**
 * Counts read from the store once, then kept current in memory by this hub's own writes. A count
 * is read again only when it would refuse and is older than `refreshMs`, so a refusal is always
 * decided on a recent reading.
 */
class Counts {
	#counts = new Map<string, Count>();

	constructor(private readonly options: CountsOptions) {}

	/** Starts `key`'s first reading if it has none, without waiting for it. */
	warm(key: string): void {
		this.#entry(key);
	}

	/**
	 * Adds `amount` to `key`'s count when the result stays within `limit`; false (nothing added)
	 * when not. A first reading slower than `patience` lets it through on trust (CountsOptions).
	 */
	async reserve(key: string, amount: number, limit: number, patience: Patience): Promise<boolean> {
		const count = this.#entry(key);
		// Kept: a reading that fails also ends, and its failure is this send's.
		const reading = count.reading;
		if (reading && count.readAt === 0 && this.options.provisionalMax > 0) {
			if (!count.late) count.late = !(await this.#landsBefore(reading, patience));
			// Never read, and slow to be: on trust, within provisionalMax; past it, wait like the rest.
			if (
				count.late &&
				count.readAt === 0 &&
				count.value + amount <= Math.min(limit, this.options.provisionalMax)
			) {
				count.value += amount;
				return true;
			}
		}
		if (reading) await reading;
		if (count.value + amount > limit && this.options.now() - count.readAt > this.options.refreshMs) {
			await this.#refresh(key, count);
		}
		if (count.value + amount > limit) return false;
		count.value += amount;
		return true;
	}

	/** `key`'s count, most recently used last (eviction drops the idle ones); a new one starts its reading. */
	#entry(key: string): Count {
		let count = this.#counts.get(key);
		if (count) {
			this.#counts.delete(key);
			this.#counts.set(key, count);
			return count;
		}
		count = { value: 0, readAt: 0, reading: null, late: false };
		this.#counts.set(key, count);
		this.#evict();
		void this.#refresh(key, count).catch(() => undefined); // the senders waiting on it see the failure
		return count;
	}

	/** True when `reading` ends (either way) before the send's patience runs out. */
	async #landsBefore(reading: Promise<void>, patience: Patience): Promise<boolean> {
		const landed = reading.then(
			() => true,
			() => true,
		);
		return Promise.race([landed, patience.over().then(() => false)]);
	}

	/** Follows a change this hub made (a reservation given back, a receipt); unknown keys are read when needed. */
	add(key: string, delta: number): void {
		const count = this.#counts.get(key);
		if (count) count.value = Math.max(0, count.value + delta);
	}

	async #refresh(key: string, count: Count): Promise<void> {
		if (!count.reading) {
			count.reading = (async () => {
				try {
					const read = await this.options.read(key);
					// A first reading adds what was let through on trust while it ran (it may hold some of
					// them already: the count errs high, and is read again before it refuses).
					count.value = count.readAt === 0 ? read + Math.max(0, count.value) : read;
					count.readAt = this.options.now();
				} catch (error) {
					// Never read: forget it, so the next send tries again.
					if (count.readAt === 0) this.#counts.delete(key);
					throw error;
				} finally {
					count.reading = null;
				}
			})();
		}
		await count.reading;
	}

	#evict(): void {
		for (const key of this.#counts.keys()) {
			if (this.#counts.size <= ENTRIES_MAX) return;
			this.#counts.delete(key);
		}
	}
}

/** Runs at most `size` of the tasks given to it at once, in the order given. */
class Slots {
	#free: number;
	#waiting: (() => void)[] = [];

	constructor(size: number) {
		this.#free = size;
	}

	async run<T>(task: () => Promise<T>): Promise<T> {
		if (this.#free > 0) this.#free -= 1;
		else await new Promise<void>((resolve) => this.#waiting.push(resolve));
		try {
			return await task();
		} finally {
			// Handed straight to the next in line, or freed.
			const next = this.#waiting.shift();
			if (next) next();
			else this.#free += 1;
		}
	}
}

interface Bucket {
	tokens: number;
	at: number;
}

/**
 * Fairness between users: a send rate per user (a token bucket) and what one user may leave
 * stored — envelopes waiting for one recipient, bytes of ciphertext. Checked on every send without
 * a database round trip: the counts live in this hub's memory (see Counts). With several hubs each
 * keeps its own, so a user spread over N hubs gets at most N× a limit (docs/OPERATIONS.md, Fairness).
 */
export class QuotaService {
	#buckets = new Map<string, Bucket>();
	#undelivered: Counts;
	#bytes: Counts;
	/** Per (sender, recipient) without a relation: envelopes and bytes stored, delivered or not. */
	#requestEnvelopes: Counts;
	#requestBytes: Counts;

	constructor(
		private readonly store: Store,
		private readonly config: HubConfig,
		private readonly now: () => number,
		private readonly firstReadWaitMs = FIRST_READ_WAIT_MS,
	) {
		const { sendBurst } = config.fairness;
		const pairOf = (key: string) => JSON.parse(key) as [from: string, to: string];
		const slots = new Slots(READINGS_AT_ONCE);
		const counts = (read: CountsOptions['read'], refreshMs: number, provisionalMax: number) =>
			new Counts({
				read: (key) => slots.run(() => read(key)),
				refreshMs,
				provisionalMax,
				now,
			});
		// On trust while a first reading is slow: what one burst of sends could store anyway.
		this.#undelivered = counts(
			(key) => store.usage.undelivered(...pairOf(key)),
			UNDELIVERED_REFRESH_MS,
			sendBurst,
		);
		this.#bytes = counts(
			(from) => store.usage.storedBytes(from),
			BYTES_REFRESH_MS,
			sendBurst * LIMITS.ciphertextMaxBytes,
		);
		// A message request's caps are a few envelopes, read from as few: always waited for.
		const storedFor = (key: string) => store.usage.storedFor(...pairOf(key));
		this.#requestEnvelopes = counts(async (key) => (await storedFor(key)).envelopes, REQUEST_REFRESH_MS, 0);
		this.#requestBytes = counts(async (key) => (await storedFor(key)).bytes, REQUEST_REFRESH_MS, 0);
	}

	/**
	 * Before the first start on a database stored without envelope sizes: gives every envelope its
	 * `size`, once (a setting records it), so that stored bytes add up in the database. Envelopes
	 * that a hub of an older version stores while an upgrade rolls out get none and count 0 bytes:
	 * an overshoot bounded by what one deploy's window of sends could store.
	 */
	async prepare(log: (given: number) => void): Promise<void> {
		if ((await this.store.settings.get(SIZES_SETTING)) !== null) return;
		const given = await this.store.envelopes.backfillSizes();
		await this.store.settings.set(SIZES_SETTING, String(this.now()));
		if (given > 0) log(given);
	}

	/**
	 * Takes one of `sender`'s send tokens, or refuses with RATE_LIMITED. Keyed by user, not socket:
	 * opening more connections gives no more sends.
	 */
	takeSend(sender: string): void {
		const { sendsPerSecond, sendBurst } = this.config.fairness;
		const now = this.now();
		const bucket = this.#buckets.get(sender) ?? { tokens: sendBurst, at: now };
		this.#buckets.delete(sender);
		bucket.tokens = Math.min(sendBurst, bucket.tokens + ((now - bucket.at) / 1000) * sendsPerSecond);
		bucket.at = now;
		this.#buckets.set(sender, bucket);
		for (const key of this.#buckets.keys()) {
			if (this.#buckets.size <= ENTRIES_MAX) break;
			this.#buckets.delete(key);
		}
		if (bucket.tokens < 1) {
			const waitMs = Math.ceil(((1 - bucket.tokens) / sendsPerSecond) * 1000);
			throw new ProtocolError(
				'RATE_LIMITED',
				`More than ${sendsPerSecond} messages per second: send again in ${waitMs} ms.`,
			);
		}
		bucket.tokens -= 1;
	}

	/**
	 * Runs `insert` (which stores `envelope` and says whether it was new) when the envelope fits its
	 * sender's quotas, and keeps it counted only if it was stored. A resend of a stored envelope is
	 * never refused: it answers false, as insert would.
	 */
	async charged(
		envelope: Envelope,
		insert: () => Promise<boolean>,
		options: { request?: boolean } = {},
	): Promise<boolean> {
		const pair = JSON.stringify([envelope.from, envelope.to]);
		const bytes = base64urlBytes(envelope.ciphertext);
		const request = options.request ?? false;
		const patience = new Patience(this.firstReadWaitMs);
		let refusal: ProtocolError | null;
		try {
			refusal = await this.#reserve(pair, envelope, bytes, patience);
			if (!refusal && request) {
				refusal = await this.#reserveRequest(pair, envelope, bytes, patience);
				if (refusal) {
					this.#undelivered.add(pair, -1);
					this.#bytes.add(envelope.from, -bytes);
				}
			}
		} finally {
			patience.end();
		}
		if (refusal) {
			if (await this.#stored(envelope.id)) return false;
			throw refusal;
		}
		let stored = false;
		try {
			stored = await insert();
			return stored;
		} finally {
			if (!stored) {
				this.#undelivered.add(pair, -1);
				this.#bytes.add(envelope.from, -bytes);
				if (request) {
					this.#requestEnvelopes.add(pair, -1);
					this.#requestBytes.add(pair, -bytes);
				}
			}
		}
	}

	/**
	 * A message request (the recipient has no relation with the sender) stays small: what the sender
	 * already left stored for them plus this envelope must fit the request caps (LIMITS' by default).
	 */
	async #reserveRequest(
		pair: string,
		envelope: Envelope,
		bytes: number,
		patience: Patience,
	): Promise<ProtocolError | null> {
		const { requestEnvelopesMax, requestBytesMax } = this.config.fairness;
		// Made only when refused: an error's stack costs more than the rest of a send's accounting.
		const refusal = () =>
			new ProtocolError(
				'REQUEST_LIMIT',
				`${envelope.to} has not accepted your message request yet: until they do, at most ` +
					`${requestEnvelopesMax} messages (${Math.floor(requestBytesMax / 1024)} KiB) from you wait for them.`,
			);
		if (!(await this.#requestEnvelopes.reserve(pair, 1, requestEnvelopesMax, patience))) return refusal();
		let room: boolean;
		try {
			room = await this.#requestBytes.reserve(pair, bytes, requestBytesMax, patience);
		} catch (error) {
			this.#requestEnvelopes.add(pair, -1);
			throw error;
		}
		if (room) return null;
		this.#requestEnvelopes.add(pair, -1);
		return refusal();
	}

	/**
	 * Counts a new upload of `bytes` against `owner`'s stored bytes while `create` stores it, or refuses
	 * with QUOTA_STORAGE (nothing stored). A file's bytes leave the count with the file, at the next
	 * reading of the store.
	 */
	async chargedFile(owner: string, bytes: number, create: () => Promise<void>): Promise<void> {
		const { storedBytesPerUser } = this.config.fairness;
		const patience = new Patience(this.firstReadWaitMs);
		let room: boolean;
		try {
			room = await this.#bytes.reserve(owner, bytes, storedBytesPerUser, patience);
		} finally {
			patience.end();
		}
		if (!room) {
			throw new ProtocolError(
				'QUOTA_STORAGE',
				`This file does not fit in the ${storedBytesPerUser} bytes this hub keeps per user.`,
			);
		}
		try {
			await create();
		} catch (error) {
			this.#bytes.add(owner, -bytes);
			throw error;
		}
	}

	/** `to` received these envelopes for the first time: room for their senders to send again. */
	delivered(to: string, receipts: { from: string }[]): void {
		for (const r of receipts) this.#undelivered.add(JSON.stringify([r.from, to]), -1);
	}

	/** Counts the envelope against both quotas, or says which one it would exceed (and counts nothing). */
	async #reserve(
		pair: string,
		envelope: Envelope,
		bytes: number,
		patience: Patience,
	): Promise<ProtocolError | null> {
		const { undeliveredPerRecipient, storedBytesPerUser } = this.config.fairness;
		// Both readings under way before either is waited for.
		this.#bytes.warm(envelope.from);
		if (!(await this.#undelivered.reserve(pair, 1, undeliveredPerRecipient, patience))) {
			return new ProtocolError(
				'QUOTA_UNDELIVERED',
				`${undeliveredPerRecipient} of your messages already wait for ${envelope.to}; send more once they receive them.`,
			);
		}
		let room: boolean;
		try {
			room = await this.#bytes.reserve(envelope.from, bytes, storedBytesPerUser, patience);
		} catch (error) {
			this.#undelivered.add(pair, -1);
			throw error;
		}
		if (room) return null;
		this.#undelivered.add(pair, -1);
		return new ProtocolError(
			'QUOTA_STORAGE',
			`Your messages already take the ${storedBytesPerUser} bytes this hub keeps per user.`,
		);
	}

	async #stored(id: string): Promise<boolean> {
		return (await this.store.envelopes.get(id)) !== null;
	}
}
