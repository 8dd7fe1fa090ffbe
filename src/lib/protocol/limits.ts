/** Limits shared by the hub, the PWA and the CLI. Changing one is a protocol change. */
export const LIMITS = {
	usernameMin: 3,
	usernameMax: 32,
	passwordMin: 12,
	passwordMax: 256,
	/** Largest ciphertext of one envelope, in bytes (a text body is far below it). */
	ciphertextMaxBytes: 64 * 1024,
	/** Longest text a user may write in one message, in characters. */
	textMaxChars: 16_000,
	/** Most envelopes one sync page returns. */
	syncPageMax: 500,
	/** Most events one page of the activity log returns. */
	activityPageMax: 200,
	/** Most ids one receipt may acknowledge. */
	receiptIdsMax: 500,
	/** Most message ids one read receipt (a control envelope to the peer) carries. */
	readReceiptIdsMax: 500,
	/** Sync re-reads this far behind the cursor, so a write that committed late is not skipped. */
	syncOverlapMs: 10_000,
	/** Largest Socket.IO frame the hub accepts, in bytes. */
	socketFrameMaxBytes: 128 * 1024,
	/** Largest ciphertext chunk of a file the hub accepts, in bytes (1 MiB of plaintext and its overhead). */
	fileChunkMaxBytes: 1024 * 1024 + 64,
	/** Largest plaintext chunk a file message may announce. */
	fileChunkMaxPlainBytes: 1024 * 1024,
	/** Most chunks one file may have (2 GiB in 64 KiB chunks, or 16 GiB in 1 MiB ones). */
	fileChunksMax: 32_768,
	/** Longest file name in a file message, in characters. */
	fileNameMaxChars: 255,
	/** Largest thumbnail inside a file message, in bytes (the envelope's ciphertext must still fit). */
	thumbnailMaxBytes: 32 * 1024,
	/** Default and furthest time-lock horizon, in milliseconds (10 years). */
	timelockHorizonMs: 10 * 365.25 * 24 * 3600 * 1000,
	/**
	 * What someone who is not your contact may leave stored for you (a message request): this many
	 * envelopes and this many bytes of ciphertext, until you accept them (REQUEST_LIMIT past either).
	 */
	requestEnvelopesMax: 5,
	requestBytesMax: 8 * 1024,
	/** Most contacts (accepted or blocked) one account keeps on the hub. */
	contactsMax: 5_000,
	/** Longest disappearing-message timer, in milliseconds (one week). */
	disappearingMaxMs: 7 * 24 * 3600 * 1000,
} as const;

/** The disappearing-message choices, by name; a hub's DISAPPEARING_TIMERS may shorten them (tests do). */
export const DISAPPEARING_CHOICES = ['5m', '1h', '1d', '1w'] as const;
export type DisappearingChoice = (typeof DISAPPEARING_CHOICES)[number];

/** Argon2id cost for the master key: libsodium's INTERACTIVE limits (64 MiB, 2 passes). */
export const KDF_DEFAULT = {
	alg: 'argon2id13',
	opslimit: 2,
	memlimit: 64 * 1024 * 1024,
} as const;

/** Bounds the hub accepts for stored KDF parameters (so a client cannot store a trivial cost). */
export const KDF_BOUNDS = {
	opsMin: 2,
	opsMax: 10,
	memMin: 19 * 1024 * 1024,
	memMax: 1024 * 1024 * 1024,
} as const;
