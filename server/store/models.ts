import { Schema, type Connection, type Model } from 'mongoose';
import type { EnvelopeKind } from '../../src/lib/protocol';

/*
 * The documents as stored. Every _id is a natural key (username, session hash, message id), so
 * a claim is a unique-index insert and nothing relies on updates to a shared document.
 * Schemas stay inside the MongoDB subset that FerretDB 1.24 honours (docs/PROTOCOL.md, DESIGN.md).
 */

export interface UserDoc {
	_id: string;
	salt: string;
	kdf: { alg: 'argon2id13'; opslimit: number; memlimit: number };
	/** PHC string of Argon2id(authKey): the hub never holds the password or the authKey itself. */
	authHash: string;
	identity: { signPk: string; boxPk: string };
	keyBackup: { nonce: string; ciphertext: string };
	createdAt: number;
}

export interface SessionDoc {
	/** sha256 of the cookie's token: a database leak gives no usable session. */
	_id: string;
	username: string;
	createdAt: number;
	lastSeenAt: number;
	expiresAt: number;
	trusted: boolean;
	userAgent: string;
	/** Where the session signed in, coarsely: the address's /16 (IPv4) or /48 (IPv6), never the full address. */
	place: string | null;
}

/** One event of a user's activity log (server/services/activity.ts); `_id` sorts by time. */
export interface ActivityDoc {
	_id: string;
	username: string;
	at: number;
	type: string;
	device: string | null;
	place: string | null;
	newDevice?: boolean;
	reason?: 'password' | 'code';
	count?: number;
	until?: number;
}

export interface SettingDoc {
	_id: string;
	value: string;
}

/**
 * A deliverable or settled envelope (`envelopes`), or a still-locked one (`locked_envelopes`).
 * A time-locked envelope is stored in `locked_envelopes` only; its release or cancel is the
 * insert of its settled copy into `envelopes`, whose unique _id makes the first decision the only
 * one. The locked copy is then removed; until it is, the copy in `envelopes` is what counts.
 */
export interface EnvelopeDoc {
	_id: string;
	v: 1;
	from: string;
	to: string;
	sentAt: number;
	unlockAt: number | null;
	announce: boolean;
	kind: EnvelopeKind;
	/** A disappearing message's signed timer; absent on documents from before it. */
	expiresAfterMs?: number | null;
	/** Emptied when the sender deletes it for everyone. */
	nonce: string;
	ciphertext: string;
	/**
	 * Bytes of ciphertext (decoded), which the quota sums in the database instead of reading every
	 * ciphertext back (server/store/usage.ts); 0 for a tombstone. Absent on documents stored before
	 * it until `backfillSizes` gives them one.
	 */
	size?: number;
	/** The file the envelope carries, when it carries one (absent otherwise). */
	fileId?: string;
	signature: string;
	/** `deleted`: a tombstone, the ciphertext gone, placed at its deletion in both sync orders. */
	state: 'live' | 'locked' | 'released' | 'cancelled' | 'deleted';
	storedAt: number;
	releasedAt: number | null;
	/** For a tombstone: when, and the sender's signature over the deletion statement. */
	deletedAt?: number | null;
	deleteSignature?: string | null;
	/** The hub time of the envelope's place in the sync order; the protocol's syncKey is this + id. */
	syncAt: number;
	/** A locked copy's unlock time in whole DUE_SLOT_MS (server/store/envelopes.ts); absent elsewhere. */
	dueSlot?: number;
}

/**
 * When the hub removes a delivered disappearing message: its first receipt plus its timer. One
 * document per message, only while it waits, so the sweep's range reads a small collection.
 */
export interface ExpiryDoc {
	/** The envelope's id. */
	_id: string;
	to: string;
	at: number;
}

export interface ReceiptDoc {
	/** The envelope's id: one delivery receipt per envelope. */
	_id: string;
	from: string;
	to: string;
	at: number;
}

/** One counted event of sign-in throttling (server/store/throttle.ts). */
export interface ThrottleEventDoc {
	_id: string;
	/** What is counted: `fail:account:<name>`, `rate:auth:<address>:<window>`, … */
	key: string;
	at: number;
	/** Removed by the maintenance sweep once past. */
	expiresAt: number;
}

/** A user's second factor (server/store/second-factor.ts): one document per user, _id the username. */
export interface SecondFactorDoc {
	_id: string;
	state: 'pending' | 'enabled';
	/** The TOTP secret, sealed with the hub's key (server/services/two-factor.ts). */
	sealedSecret: string;
	/** sha256 of each recovery code; empty while pending. */
	recoveryHashes: string[];
	createdAt: number;
	enabledAt: number | null;
}

/**
 * A spent TOTP time step or recovery code: `totp:<user>:<step>` or `recovery:<user>:<hash>`.
 * The unique _id makes a code's first use the only one.
 */
export interface SecondFactorUseDoc {
	_id: string;
	username: string;
	kind: 'totp' | 'recovery';
	/** The TOTP time step; 0 for a recovery code. */
	step: number;
	at: number;
}

/**
 * How `owner` stands with `peer` (server/store/contacts.ts): `_id` is `${owner}:${peer}` (":" is in no
 * username; PostgreSQL's jsonb under the embedded engine refuses a NUL), so the
 * send path's one question — how does the recipient stand with the sender? — is one `_id` equality,
 * which both MongoDB and the embedded engine answer cheaply. No document means no relation.
 */
export interface ContactDoc {
	_id: string;
	owner: string;
	peer: string;
	state: 'accepted' | 'blocked';
	since: number;
}

/**
 * An upload (server/store/files.ts): ciphertext only, its key is in an envelope the hub cannot read.
 * `envelopeId` and `to` are set once an envelope references it; until then only `owner` reads it.
 */
export interface FileDoc {
	_id: string;
	owner: string;
	/** Declared ciphertext bytes and chunks; finish checks what arrived against them. */
	size: number;
	chunks: number;
	/** The largest chunk the upload declared. */
	chunkBytes: number;
	createdAt: number;
	finishedAt: number | null;
	envelopeId: string | null;
	to: string | null;
}

/** One ciphertext chunk of a file: `_id` is `<fileId>:<n>`, read by that equality only. */
export interface FileChunkDoc {
	_id: string;
	fileId: string;
	n: number;
	data: Buffer;
}

/**
 * That chunk `n` is stored, and its size: written after the chunk, small, so listing what an upload
 * holds never reads the chunks' bytes (the embedded engine decodes whole documents for a filter).
 */
export interface FilePartDoc {
	_id: string;
	fileId: string;
	n: number;
	bytes: number;
}

const options = { versionKey: false, strict: true, minimize: false } as const;

const userSchema = new Schema<UserDoc>(
	{
		_id: { type: String, required: true },
		salt: { type: String, required: true },
		kdf: {
			alg: { type: String, required: true },
			opslimit: { type: Number, required: true },
			memlimit: { type: Number, required: true },
		},
		authHash: { type: String, required: true },
		identity: {
			signPk: { type: String, required: true },
			boxPk: { type: String, required: true },
		},
		keyBackup: {
			nonce: { type: String, required: true },
			ciphertext: { type: String, required: true },
		},
		createdAt: { type: Number, required: true },
	},
	{ ...options, collection: 'users' },
);

const sessionSchema = new Schema<SessionDoc>(
	{
		_id: { type: String, required: true },
		username: { type: String, required: true },
		createdAt: { type: Number, required: true },
		lastSeenAt: { type: Number, required: true },
		expiresAt: { type: Number, required: true },
		trusted: { type: Boolean, required: true },
		userAgent: { type: String, default: '' },
		place: { type: String, default: null },
	},
	{ ...options, collection: 'sessions' },
);
sessionSchema.index({ expiresAt: 1 });
sessionSchema.index({ username: 1 });

const activitySchema = new Schema<ActivityDoc>(
	{
		_id: { type: String, required: true },
		username: { type: String, required: true },
		at: { type: Number, required: true },
		type: { type: String, required: true },
		device: { type: String, default: null },
		place: { type: String, default: null },
		newDevice: { type: Boolean },
		reason: { type: String },
		count: { type: Number },
		until: { type: Number },
	},
	{ ...options, collection: 'activity' },
);
// A user's page is an equality on username, newest _id first; the retention sweep a range on at.
activitySchema.index({ username: 1, _id: -1 });
activitySchema.index({ at: 1 });

const settingSchema = new Schema<SettingDoc>(
	{
		_id: { type: String, required: true },
		value: { type: String, required: true },
	},
	{ ...options, collection: 'settings' },
);

const envelopeFields = {
	_id: { type: String, required: true },
	v: { type: Number, required: true },
	from: { type: String, required: true },
	to: { type: String, required: true },
	sentAt: { type: Number, required: true },
	unlockAt: { type: Number, default: null },
	announce: { type: Boolean, required: true },
	kind: { type: String, required: true },
	expiresAfterMs: { type: Number, default: null },
	// Not required: a tombstone keeps neither (written through the driver, which skips validation anyway).
	nonce: { type: String },
	ciphertext: { type: String },
	size: { type: Number },
	fileId: { type: String },
	signature: { type: String, required: true },
	state: { type: String, required: true, enum: ['live', 'locked', 'released', 'cancelled', 'deleted'] },
	storedAt: { type: Number, required: true },
	releasedAt: { type: Number, default: null },
	deletedAt: { type: Number, default: null },
	deleteSignature: { type: String, default: null },
	syncAt: { type: Number, required: true },
	dueSlot: { type: Number },
} as const;

const envelopeSchema = new Schema<EnvelopeDoc>(envelopeFields, { ...options, collection: 'envelopes' });
envelopeSchema.index({ to: 1, syncAt: 1, _id: 1 });
envelopeSchema.index({ from: 1, syncAt: 1, _id: 1 });
envelopeSchema.index({ state: 1, storedAt: 1 });

const lockedSchema = new Schema<EnvelopeDoc>(envelopeFields, { ...options, collection: 'locked_envelopes' });
lockedSchema.index({ unlockAt: 1, _id: 1 });
lockedSchema.index({ from: 1, syncAt: 1, _id: 1 });
lockedSchema.index({ to: 1, unlockAt: 1 });
lockedSchema.index({ dueSlot: 1 });

const receiptSchema = new Schema<ReceiptDoc>(
	{
		_id: { type: String, required: true },
		from: { type: String, required: true },
		to: { type: String, required: true },
		at: { type: Number, required: true },
	},
	{ ...options, collection: 'receipts' },
);
receiptSchema.index({ from: 1, at: 1 });
receiptSchema.index({ at: 1 });

const expirySchema = new Schema<ExpiryDoc>(
	{
		_id: { type: String, required: true },
		to: { type: String, required: true },
		at: { type: Number, required: true },
	},
	{ ...options, collection: 'expiries' },
);
expirySchema.index({ at: 1 });

const throttleSchema = new Schema<ThrottleEventDoc>(
	{
		_id: { type: String, required: true },
		key: { type: String, required: true },
		at: { type: Number, required: true },
		expiresAt: { type: Number, required: true },
	},
	{ ...options, collection: 'throttle_events' },
);
throttleSchema.index({ key: 1 });
throttleSchema.index({ expiresAt: 1 });

const secondFactorSchema = new Schema<SecondFactorDoc>(
	{
		_id: { type: String, required: true },
		state: { type: String, required: true, enum: ['pending', 'enabled'] },
		sealedSecret: { type: String, required: true },
		recoveryHashes: { type: [String], default: [] },
		createdAt: { type: Number, required: true },
		enabledAt: { type: Number, default: null },
	},
	{ ...options, collection: 'second_factors' },
);

const secondFactorUseSchema = new Schema<SecondFactorUseDoc>(
	{
		_id: { type: String, required: true },
		username: { type: String, required: true },
		kind: { type: String, required: true, enum: ['totp', 'recovery'] },
		step: { type: Number, required: true },
		at: { type: Number, required: true },
	},
	{ ...options, collection: 'second_factor_uses' },
);
secondFactorUseSchema.index({ username: 1 });

const contactSchema = new Schema<ContactDoc>(
	{
		_id: { type: String, required: true },
		owner: { type: String, required: true },
		peer: { type: String, required: true },
		state: { type: String, required: true, enum: ['accepted', 'blocked'] },
		since: { type: Number, required: true },
	},
	{ ...options, collection: 'contacts' },
);
contactSchema.index({ owner: 1 });
contactSchema.index({ peer: 1 });

const fileSchema = new Schema<FileDoc>(
	{
		_id: { type: String, required: true },
		owner: { type: String, required: true },
		size: { type: Number, required: true },
		chunks: { type: Number, required: true },
		chunkBytes: { type: Number, required: true },
		createdAt: { type: Number, required: true },
		finishedAt: { type: Number, default: null },
		envelopeId: { type: String, default: null },
		to: { type: String, default: null },
	},
	{ ...options, collection: 'files' },
);
fileSchema.index({ owner: 1 });
fileSchema.index({ envelopeId: 1 });
fileSchema.index({ to: 1 });

const fileChunkSchema = new Schema<FileChunkDoc>(
	{
		_id: { type: String, required: true },
		fileId: { type: String, required: true },
		n: { type: Number, required: true },
		data: { type: Buffer, required: true },
	},
	{ ...options, collection: 'file_chunks' },
);
fileChunkSchema.index({ fileId: 1 });

const filePartSchema = new Schema<FilePartDoc>(
	{
		_id: { type: String, required: true },
		fileId: { type: String, required: true },
		n: { type: Number, required: true },
		bytes: { type: Number, required: true },
	},
	{ ...options, collection: 'file_parts' },
);
filePartSchema.index({ fileId: 1 });

export interface Models {
	users: Model<UserDoc>;
	sessions: Model<SessionDoc>;
	settings: Model<SettingDoc>;
	envelopes: Model<EnvelopeDoc>;
	/** Time-locked envelopes not yet released or cancelled: never read on the recipient's behalf but for announced notices. */
	locked: Model<EnvelopeDoc>;
	receipts: Model<ReceiptDoc>;
	expiries: Model<ExpiryDoc>;
	throttle: Model<ThrottleEventDoc>;
	secondFactors: Model<SecondFactorDoc>;
	secondFactorUses: Model<SecondFactorUseDoc>;
	activity: Model<ActivityDoc>;
	contacts: Model<ContactDoc>;
	files: Model<FileDoc>;
	fileChunks: Model<FileChunkDoc>;
	fileParts: Model<FilePartDoc>;
}

/** Compiles the models on one connection (never on mongoose's global one) and builds their indexes. */
export async function defineModels(conn: Connection): Promise<Models> {
	const models: Models = {
		users: conn.model<UserDoc>('User', userSchema),
		sessions: conn.model<SessionDoc>('Session', sessionSchema),
		settings: conn.model<SettingDoc>('Setting', settingSchema),
		envelopes: conn.model<EnvelopeDoc>('Envelope', envelopeSchema),
		locked: conn.model<EnvelopeDoc>('LockedEnvelope', lockedSchema),
		receipts: conn.model<ReceiptDoc>('Receipt', receiptSchema),
		expiries: conn.model<ExpiryDoc>('Expiry', expirySchema),
		throttle: conn.model<ThrottleEventDoc>('ThrottleEvent', throttleSchema),
		secondFactors: conn.model<SecondFactorDoc>('SecondFactor', secondFactorSchema),
		secondFactorUses: conn.model<SecondFactorUseDoc>('SecondFactorUse', secondFactorUseSchema),
		activity: conn.model<ActivityDoc>('Activity', activitySchema),
		contacts: conn.model<ContactDoc>('Contact', contactSchema),
		files: conn.model<FileDoc>('File', fileSchema),
		fileChunks: conn.model<FileChunkDoc>('FileChunk', fileChunkSchema),
		fileParts: conn.model<FilePartDoc>('FilePart', filePartSchema),
	};
	await Promise.all(Object.values(models).map((model: Model<unknown>) => model.init()));
	return models;
}

/** E11000: the unique index refused an insert. The only signal claims rely on. */
export function isDuplicateKey(error: unknown): boolean {
	return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}
