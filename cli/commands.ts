import { existsSync, rmSync } from 'node:fs';
import {
	LIMITS,
	ProtocolError,
	type ActivityEvent,
	type DisappearingChoice,
	type ErrorCode,
	type FileBody,
	type SealedNotice,
} from '../src/lib/protocol';
import { decodePublicIdentity, fileLayout, fromB64, ready, safetyNumber } from '../src/lib/crypto';
import {
	ApiError,
	KeyChangedError,
	addContactFromCard,
	checkSafetyCode,
	createAccount,
	encodeSafetyCode,
	isVerifiedPin,
	ownContactCard,
	deriveInPlace,
	normaliseUsername,
	openAccountKeys,
	inTimelineOrder,
	orderOf,
	overlapCursor,
	downloadFile,
	PAUSED_KEEP_MS,
	readReceiptOf,
	receiptsSettingOf,
	sendFile,
	signIn,
	verificationOf,
	type DecodedMessage,
	type Deriver,
	type Messenger,
	type PinnedKeys,
	type TransferProgress,
} from '../src/lib/sdk';
import QRCode from 'qrcode';
import { UsageError, parseCode, type Command, type ContactsAction, type SessionTarget } from './args';
import { CookieJar } from './cookies';
import {
	diskSource,
	formatBytes,
	formatProgress,
	keptPathIn,
	openKept,
	safeFileName,
	saveInto,
	staleDownloads,
} from './files';
import {
	SESSION_ID_SHOWN,
	formatActivity,
	formatContacts,
	formatDuration,
	formatMessage,
	formatReadReceipt,
	formatRequests,
	formatSealed,
	formatSessions,
	formatTime,
	formatTimer,
	safeText,
} from './format';
import { hubErrorText, t } from './i18n';
import { openVault, type Profile, type Vault } from './profile';
import {
	LocalSession,
	checkPasswordLength,
	completeSecondFactor,
	hubApi,
	profileFrom,
	type CliContext,
} from './session';

/** `verify` found that the safety number does not match: exit code 1, nothing marked. */
export class SafetyMismatchError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'SafetyMismatchError';
	}
}

/** Runs one parsed command. Throws UsageError, ApiError, ProtocolError, ProfileError or KeyChangedError. */
export async function runCommand(
	ctx: CliContext,
	command: Exclude<Command, { name: 'help' }>,
): Promise<void> {
	await ready();
	switch (command.name) {
		case 'register':
			return register(ctx, command.username);
		case 'login':
			return login(ctx, command.username, command.trust, command.code);
		case '2fa':
			return withSession(ctx, (session) =>
				command.action === 'enable' ? enableTwoFactor(session) : disableTwoFactor(session, command.code),
			);
		case 'send':
			return withSession(ctx, (session) => send(session, command));
		case 'send-file':
			return withSession(ctx, (session) => sendFileCommand(session, command));
		case 'read':
			return withSession(ctx, (session) => read(session, command.peer, command.saveDir));
		case 'receipts':
			return withSession(ctx, (session) => receipts(session, command.on));
		case 'delete':
			return withSession(ctx, (session) => deleteMessage(session, command.id, command.everyone));
		case 'disappear':
			return withSession(ctx, (session) => disappear(session, command.peer, command.timer));
		case 'safety':
			return withSession(ctx, (session) => safety(session, command));
		case 'verify':
			return withSession(ctx, (session) => verify(session, command.peer, command.code));
		case 'unverify':
			return withSession(ctx, (session) => unverify(session, command.peer));
		case 'logout':
			return withSession(ctx, (session) => logout(session, command.forget));
		case 'sessions':
			return withSession(ctx, (session) => sessions(session, command.revoke));
		case 'activity':
			return withSession(ctx, (session) => activity(session, command.limit));
		case 'password':
			return withSession(ctx, (session) => password(session, command.keepSessions));
		case 'account':
			return withSession(ctx, (session) => deleteAccount(session, command.code));
		case 'contacts':
			return withSession(ctx, (session) => contacts(session, command.action));
		case 'requests':
			return withSession(ctx, requests);
		case 'accept':
		case 'decline':
		case 'block':
		case 'unblock':
			return withSession(ctx, (session) => relate(session, command.name, command.peer));
		case 'card':
			return withSession(ctx, (session) => card(session, command.qr));
	}
}

async function withSession(ctx: CliContext, run: (session: LocalSession) => Promise<void>): Promise<void> {
	const session = await LocalSession.open(ctx);
	try {
		await run(session);
	} finally {
		session.close();
	}
}

async function register(ctx: CliContext, username: string): Promise<void> {
	const password = await ctx.password(t('prompt.choosePassword', { username }), true);
	checkPasswordLength(password);
	const jar = new CookieJar();
	const account = await createAccount(hubApi(ctx.server, jar), username, password);
	const { profile } = profileFrom(ctx.server, account, jar, null);
	ctx.store.write(profile);
	ctx.store.setCurrent(ctx.server, account.username);
	ctx.out(t('register.done', { username: account.username, server: ctx.server }));
	ctx.out(t('register.keys', { path: ctx.store.path(ctx.server, account.username) }));
}

async function login(ctx: CliContext, username: string, trust: boolean, code: string | null): Promise<void> {
	const password = await ctx.password(t('prompt.password', { username }));
	checkPasswordLength(password);
	const name = normaliseUsername(username);
	const jar = new CookieJar();
	let kept: Vault | null = null;
	// The keys open what an earlier sign-in kept here, before the sign-in is sent: its device token
	// goes with it, so this device gets in while the account is locked out for strangers.
	const derive: Deriver = async (...args) => {
		const keys = await deriveInPlace(...args);
		kept = keptVault(ctx, name, (profile) => openAccountKeys(profile.keyBackup, keys).localKey);
		if (kept) jar.adoptDeviceToken(kept.cookies);
		return keys;
	};
	const account = await completeSecondFactor(
		ctx,
		signIn(hubApi(ctx.server, jar), name, password, { trustDevice: trust, derive }),
		code,
	);
	// Kept under a password changed on another device: the history key from the new backup opens it.
	kept ??= keptVault(ctx, name, () => account.localKey);
	const previous = sameIdentity(kept, account.user.identity.signPk);
	const { profile } = profileFrom(ctx.server, account, jar, previous);
	ctx.store.write(profile);
	ctx.store.setCurrent(ctx.server, account.username);
	const done = trust ? 'login.doneTrusted' : 'login.done';
	ctx.out(t(done, { username: account.username, server: ctx.server }));
}

/** What an earlier sign-in of this account kept on this device, if these keys open it. */
function keptVault(
	ctx: CliContext,
	username: string,
	localKeyOf: (profile: Profile) => Uint8Array,
): Vault | null {
	const profile = ctx.store.read(ctx.server, username);
	if (!profile) return null;
	try {
		return openVault(profile.vault, localKeyOf(profile));
	} catch {
		// Sealed under an older password: start afresh rather than fail the sign-in.
		return null;
	}
}

/** Pins, cursor and read ids are kept only for the same identity (not a name registered anew). */
function sameIdentity(kept: Vault | null, signPk: string): Vault | null {
	return kept?.user.identity.signPk === signPk ? kept : null;
}

async function send(session: LocalSession, command: Extract<Command, { name: 'send' }>): Promise<void> {
	await session.ensureSignedIn();
	const messenger = await session.messenger();
	try {
		// Check the pinned keys against the hub's before encrypting: a changed key blocks sending.
		await messenger.peerKeys(command.to, { refresh: true });
		const { envelope, result } = await messenger.send(command.to, command.text, {
			unlockAt: command.unlockAt,
			announce: command.announce,
			// The conversation's timer as this device last saw it set (by `disappear` or `read`).
			expiresAfterMs: session.vault.timers[command.to] ?? null,
		});
		session.vault.seen[envelope.id] = result.syncKey;
		const again = result.duplicate ? t('send.again') : '';
		if (result.state === 'locked' && envelope.unlockAt !== null) {
			const until = formatTime(envelope.unlockAt);
			const told = t(envelope.announce ? 'send.told' : 'send.notTold', { to: envelope.to });
			session.ctx.out(t('send.locked', { id: envelope.id, to: envelope.to, until, told }) + again);
		} else {
			session.ctx.out(t('send.sent', { id: envelope.id, to: envelope.to }) + again);
		}
	} finally {
		session.save();
	}
}

/**
 * Reports progress at most once per percent, so a large file does not flood stderr; `end` closes a
 * line a failure left open, so that what is printed next starts on a line of its own.
 */
function progressLine(
	session: LocalSession,
	name: string,
): ((progress: TransferProgress) => void) & { end(): void } {
	let shown = -1;
	let open: string | null = null;
	const report = (progress: TransferProgress) => {
		const percent =
			progress.totalBytes === 0 ? 100 : Math.floor((progress.doneBytes / progress.totalBytes) * 100);
		if (percent === shown) return;
		shown = percent;
		const done = progress.doneBytes >= progress.totalBytes;
		const line = formatProgress(name, progress);
		open = done ? null : line;
		session.ctx.progress?.(line, done);
	};
	return Object.assign(report, {
		end() {
			if (open !== null) session.ctx.progress?.(open, true);
			open = null;
		},
	});
}

async function sendFileCommand(
	session: LocalSession,
	command: Extract<Command, { name: 'send-file' }>,
): Promise<void> {
	let source;
	try {
		source = diskSource(command.path);
	} catch (error) {
		throw new UsageError(t('sendFile.unreadable', { path: command.path, reason: (error as Error).message }));
	}
	await session.ensureSignedIn();
	const messenger = await session.messenger();
	// The same file (path, size, modification time) to the same user resumes its upload.
	const uploadKey = JSON.stringify([command.to, command.path, source.size, source.mtimeMs]);
	const uploads = (session.vault.uploads ??= {});
	try {
		await messenger.peerKeys(command.to, { refresh: true });
		const progress = progressLine(session, source.name);
		const options = {
			unlockAt: command.unlockAt,
			announce: command.announce,
			onProgress: progress,
			onState: (state: NonNullable<typeof uploads>[string]) => {
				uploads[uploadKey] = state;
				session.save();
			},
		};
		let sent;
		try {
			try {
				sent = await sendFile(messenger, command.to, source, { ...options, resume: uploads[uploadKey] });
			} catch (error) {
				// The upload to resume is gone (swept, or sent already): start again.
				if (!(error instanceof ApiError && error.code === 'NOT_FOUND' && uploads[uploadKey])) throw error;
				delete uploads[uploadKey];
				sent = await sendFile(messenger, command.to, source, options);
			}
		} finally {
			progress.end();
		}
		const { envelope, result, file } = sent;
		delete uploads[uploadKey];
		session.vault.seen[envelope.id] = result.syncKey;
		const what = t('sendFile.what', { name: file.name, size: formatBytes(file.size), fileId: file.fileId });
		if (result.state === 'locked' && envelope.unlockAt !== null) {
			const until = formatTime(envelope.unlockAt);
			const told = t(envelope.announce ? 'send.told' : 'send.notTold', { to: envelope.to });
			session.ctx.out(t('sendFile.locked', { id: envelope.id, to: envelope.to, until, what, told }));
		} else {
			session.ctx.out(t('sendFile.sent', { id: envelope.id, to: envelope.to, what }));
		}
	} finally {
		session.save();
	}
}

/** A received file to save: the message that carried it (its id names a pending download), and who sent it. */
interface FileToSave {
	id: string;
	from: string;
	file: FileBody;
}

/**
 * Saves a received file into `dir`; prints its path, why it was not saved, or that it paused. Its
 * ciphertext is kept as it comes (`.hourglass-*.kept` in `dir`, named by a pending download in the
 * vault), so that a download the hub's absence or a kill interrupted resumes from it on the next
 * `read --save-dir`; a refused file keeps nothing.
 */
async function saveFile(
	session: LocalSession,
	messenger: Messenger,
	{ id, from, file }: FileToSave,
	dir: string,
): Promise<void> {
	const out = (line: string) => session.ctx.out(`  ${line}`);
	const name = safeFileName(file.name);
	if (name === null) {
		out(t('save.badName', { name: safeText(file.name) }));
		return;
	}
	const layout = fileLayout(file.size, file.chunkSize);
	const downloads = (session.vault.downloads ??= {});
	const earlier = downloads[id];
	// The plaintext an earlier try was writing when it was killed: it is written again, checked.
	if (earlier) rmSync(earlier.part, { force: true });
	const keptPath = earlier && existsSync(earlier.kept) ? earlier.kept : keptPathIn(dir);
	const target = saveInto(dir);
	const { fileId, key, mime, size, chunkSize, hash } = file;
	downloads[id] = {
		fileId,
		key,
		name: file.name,
		mime,
		size,
		chunkSize,
		hash,
		from,
		kept: keptPath,
		part: target.path,
		at: Date.now(),
	};
	// Recorded before the first byte: a process killed mid-way leaves what the next read resumes.
	session.save();
	const kept = await openKept(keptPath, layout);
	const forget = async () => {
		await kept.remove();
		delete downloads[id];
		session.save();
	};
	const progress = progressLine(session, name);
	try {
		await downloadFile(messenger.api, file, target.sink, {
			kept: kept.count > 0 ? kept.chunks() : undefined,
			onChunk: (n, chunk) => kept.append(n, chunk),
			onProgress: progress,
		});
	} catch (error) {
		progress.end();
		await target.discard();
		if (waitingMayHelp(error)) {
			// Only the ciphertext stays: its plaintext is written again, checked, on the resume.
			await kept.close();
			const percent = Math.floor((kept.bytes / layout.ciphertextBytes) * 100);
			out(t('save.paused', { name, percent, reason: failureText(error), dir }));
			return;
		}
		// Refused (altered, truncated, another hash), gone from the hub, or not ours: nothing is kept.
		await forget();
		out(t('save.failed', { reason: failureText(error) }));
		return;
	}
	const path = await target.keep(name);
	await forget();
	out(t('save.done', { path }));
}

/** Refusals that the same request may not get later: a download they interrupt pauses. */
const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set(['UNAVAILABLE', 'RATE_LIMITED', 'UNAUTHENTICATED']);
const NETWORK_ERRORS: ReadonlySet<string> = new Set([
	'ECONNREFUSED',
	'ECONNRESET',
	'ETIMEDOUT',
	'EPIPE',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'EAI_AGAIN',
]);

/**
 * True when the hub was out of reach (after the SDK's own retries) or asked to come back later:
 * a fetch that failed or broke mid-way (a TypeError, as the SDK counts it), one of TRANSIENT_CODES,
 * a network error.
 */
function waitingMayHelp(error: unknown): boolean {
	if (error instanceof TypeError) return true;
	if (error instanceof ApiError || error instanceof ProtocolError) return TRANSIENT_CODES.has(error.code);
	const code = (error as NodeJS.ErrnoException | null)?.code;
	return typeof code === 'string' && NETWORK_ERRORS.has(code);
}

/** Why a download stopped, in words: the hub's refusal as `report` prints it, or the error and its cause. */
function failureText(error: unknown): string {
	if (error instanceof ApiError || error instanceof ProtocolError) return hubErrorText(error);
	if (!(error instanceof Error)) return String(error);
	return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

/**
 * The downloads an earlier read began and did not finish (those with `peer` only, when given): one
 * whose message was deleted in this sync (`gone`) is dropped with what it kept; the others resume
 * into `saveDir`, or without it are counted in a hint. `handled` were saved already in this run.
 */
async function resumePending(
	session: LocalSession,
	messenger: Messenger,
	scope: { saveDir: string | null; peer: string | null; gone: Set<string>; handled: Set<string> },
): Promise<void> {
	const { saveDir, peer, gone, handled } = scope;
	const downloads = session.vault.downloads;
	if (!downloads) return;
	const stale = new Set(staleDownloads(downloads, Date.now()));
	for (const [id, pending] of Object.entries(downloads)) {
		if (!gone.has(id) && !stale.has(id)) continue;
		rmSync(pending.kept, { force: true });
		rmSync(pending.part, { force: true });
		delete downloads[id];
		const words = { name: pending.name, from: pending.from, id };
		session.ctx.out(
			gone.has(id)
				? t('save.dropped', words)
				: t('save.expired', { ...words, days: PAUSED_KEEP_MS / 86_400_000 }),
		);
	}
	const waiting = Object.entries(downloads).filter(
		([id, pending]) => !handled.has(id) && (peer === null || pending.from === peer),
	);
	if (waiting.length === 0) return;
	if (saveDir === null) {
		session.ctx.out(t('read.pausedHint', { count: waiting.length }));
		return;
	}
	for (const [id, { fileId, key, name, mime, size, chunkSize, hash, from }] of waiting) {
		session.ctx.out(t('save.resuming', { name, from, id }));
		const file: FileBody = { type: 'file', fileId, key, name, mime, size, chunkSize, hash };
		await saveFile(session, messenger, { id, from, file }, saveDir);
	}
}

/**
 * Prints what is new (only the conversation with `peer`, when given), saves files to `saveDir`, and
 * marks it read; then resumes into `saveDir` the downloads an earlier read left paused.
 */
async function read(session: LocalSession, peer: string | null, saveDir: string | null): Promise<void> {
	await session.ensureSignedIn();
	const messenger = await session.messenger();
	const sealed = new Map<string, SealedNotice>();
	try {
		const result = await messenger.syncAll(session.vault.cursor, (page) => {
			for (const notice of page.sealed)
				if (peer === null || notice.from === peer) sealed.set(notice.id, notice);
		});
		// The overlap window returns some messages again: print each id once, ever. With --peer, the
		// rest stays unseen and the cursor stays put, so the next read still has it.
		const fresh = [...new Map(result.messages.map((m) => [m.id, m])).values()].filter(
			(m) => session.vault.seen[m.id] === undefined && (peer === null || m.peer === peer),
		);
		const me = session.vault.user.username;
		const vault = session.vault;
		// Control envelopes in sync order: the receipts setting first, since it decides what the receipts show.
		for (const m of fresh) {
			const setting = receiptsSettingOf(m, me);
			if (setting && setting.at >= vault.receipts.at) vault.receipts = setting;
		}
		// Forgotten (delete for me) or deleted for everyone: not printed, and said so once.
		const deletions = [...new Map(result.deletions.map((d) => [d.id, d])).values()].filter(
			(d) => peer === null || d.peer === peer,
		);
		const gone = new Set([
			...fresh.flatMap((m) => (m.control?.type === 'forget' ? [m.control.id] : [])),
			...deletions.map((d) => d.id),
		]);
		const shown: DecodedMessage[] = [];
		const saved = new Set<string>();
		let printed = 0;
		// As the PWA shows them: each in its place (a lock at its unlock time), our closed locks after.
		const { timeline, sealed: ownSealed } = inTimelineOrder(fresh, result.serverNow);
		for (const message of timeline) {
			if (gone.has(message.id)) continue;
			if (message.control?.type === 'timer') {
				setTimer(session, message.peer, message.control.expiresAfterMs);
				session.ctx.out(formatTimer(message, message.control.expiresAfterMs));
			} else if (message.kind !== 'control') {
				session.ctx.out(formatMessage(message));
				shown.push(message);
				if (message.file && message.direction === 'in') {
					if (saveDir) {
						await saveFile(
							session,
							messenger,
							{ id: message.id, from: message.from, file: message.file },
							saveDir,
						);
						saved.add(message.id);
					} else {
						session.ctx.out(`  ${t('read.saveHint')}`);
					}
				}
			} else continue;
			printed++;
		}
		for (const deletion of deletions) {
			if (vault.seen[`deleted:${deletion.id}`] !== undefined) continue;
			vault.seen[`deleted:${deletion.id}`] = deletion.syncKey;
			const by = t('read.deletedBy', { id: deletion.id, from: deletion.from });
			session.ctx.out(`[${formatTime(deletion.deletedAt)}] ${by}`);
			printed++;
		}
		if (printed === 0 && ownSealed.length === 0) session.ctx.out(t('read.none'));
		for (const message of ownSealed) {
			if (!gone.has(message.id) && message.kind !== 'control')
				session.ctx.out(`sealed: ${formatMessage(message)}`);
		}
		for (const notice of [...sealed.values()].sort((a, b) => a.unlockAt - b.unlockAt)) {
			session.ctx.out(formatSealed(notice, result.serverNow));
		}
		// Reciprocal: with receipts off, this account shows no one's.
		if (vault.receipts.on) {
			for (const m of fresh) {
				const receipt = readReceiptOf(m, me);
				if (receipt) for (const line of formatReadReceipt(receipt.peer, receipt.ids)) session.ctx.out(line);
			}
		}
		rememberRead(session, fresh, peer === null ? result.cursor : vault.cursor);
		// What this device holds, control envelopes too (a timer, a forget, our own read markers): receipts
		// let the hub purge them after the retention period. The receipts setting stays, for devices to come.
		const held = fresh
			.filter(
				(m) =>
					m.problem === null &&
					(m.direction === 'in' || (m.from === m.to && m.control?.type !== 'receipts-setting')),
			)
			.map((m) => m.id);
		if (held.length > 0) await messenger.receipt(held);
		await markPrintedRead(
			session,
			messenger,
			shown.filter((m) => m.direction === 'in' && (m.text !== null || m.file !== undefined)),
		);
		// Last: what is new is printed and marked read before older downloads take their time.
		await resumePending(session, messenger, { saveDir, peer, gone, handled: saved });
	} finally {
		session.save();
	}
}

/**
 * What `read` printed is read: one marker per conversation to this account's other devices, and
 * with receipts on one read receipt per peer (the ids it printed).
 */
async function markPrintedRead(
	session: LocalSession,
	messenger: Messenger,
	printed: DecodedMessage[],
): Promise<void> {
	const byPeer = new Map<string, DecodedMessage[]>();
	for (const m of printed) byPeer.set(m.peer, [...(byPeer.get(m.peer) ?? []), m]);
	for (const [peer, messages] of byPeer) {
		const upTo = Math.max(...messages.map((m) => orderOf(m)));
		await messenger.sendControl(messenger.username, { type: 'read', peer, upTo });
		if (session.vault.receipts.on) {
			const ids = messages.map((m) => m.id);
			for (let i = 0; i < ids.length; i += LIMITS.readReceiptIdsMax) {
				await messenger.sendControl(peer, {
					type: 'read-receipt',
					ids: ids.slice(i, i + LIMITS.readReceiptIdsMax),
				});
			}
		}
	}
}

/** Turns read receipts on or off for every device of the account (an encrypted note to itself). */
async function receipts(session: LocalSession, on: boolean): Promise<void> {
	await session.ensureSignedIn();
	const messenger = await session.messenger();
	try {
		const { envelope, result } = await messenger.sendControl(messenger.username, {
			type: 'receipts-setting',
			on,
		});
		session.vault.receipts = { on, at: result.storedAt };
		session.vault.seen[envelope.id] = result.syncKey;
		session.ctx.out(t(on ? 'receipts.on' : 'receipts.off', { username: messenger.username }));
	} finally {
		session.save();
	}
}

/** Moves the cursor and keeps only the read ids that the next sync's overlap can return again. */
function rememberRead(session: LocalSession, fresh: DecodedMessage[], cursor: string | null): void {
	const seen = session.vault.seen;
	for (const message of fresh) seen[message.id] = message.syncKey;
	const floor = overlapCursor(cursor);
	if (floor !== null) {
		for (const [id, syncKey] of Object.entries(seen)) if (syncKey < floor) delete seen[id];
	}
	session.vault.cursor = cursor;
}

/** Delete for me (every device of this account forgets it), or for everyone (the hub's copy and every device of both sides). */
async function deleteMessage(session: LocalSession, id: string, everyone: boolean): Promise<void> {
	await session.ensureSignedIn();
	const messenger = await session.messenger();
	if (everyone) {
		const { outcome } = await messenger.deleteForEveryone(id);
		session.ctx.out(t(outcome === 'cancelled' ? 'delete.cancelled' : 'delete.everyone', { id }));
	}
	const control = await messenger.forget(id);
	if (!everyone) session.ctx.out(t('delete.mine', { id, control: control.id }));
}

function setTimer(session: LocalSession, peer: string, expiresAfterMs: number | null): void {
	if (expiresAfterMs === null) delete session.vault.timers[peer];
	else session.vault.timers[peer] = expiresAfterMs;
}

/** Sets the conversation's disappearing timer, for both sides, as the hub's choices define it. */
async function disappear(
	session: LocalSession,
	peer: string,
	timer: DisappearingChoice | 'off',
): Promise<void> {
	await session.ensureSignedIn();
	const messenger = await session.messenger();
	const expiresAfterMs =
		timer === 'off' ? null : (await messenger.api.clientConfig()).disappearingTimers[timer];
	const control = await messenger.setTimer(peer, expiresAfterMs);
	setTimer(session, peer, expiresAfterMs);
	session.save();
	session.ctx.out(
		expiresAfterMs === null
			? t('disappear.off', { peer, control: control.id })
			: t('disappear.set', { peer, duration: formatDuration(expiresAfterMs), control: control.id }),
	);
}

async function safety(
	session: LocalSession,
	{ peer, accept, qr }: { peer: string; accept: boolean; qr: boolean },
): Promise<void> {
	await session.ensureSignedIn();
	const messenger = session.offlineMessenger();
	let pin;
	try {
		pin = await messenger.peerKeys(peer, { refresh: true });
	} catch (error) {
		// Keys other than the pinned ones: whatever was verified was verified for those.
		if (error instanceof KeyChangedError) delete session.vault.verified[peer];
		if (!(error instanceof KeyChangedError) || !accept) throw error;
		pin = await messenger.acceptKeyChange(error);
		session.ctx.out(t('safety.accepted', { peer }));
	} finally {
		session.save();
	}
	const number = safetyNumberWith(session, pin);
	const out = session.ctx.out;
	out(t('safety.number', { me: session.username, peer: pin.username }));
	out(number);
	const mark = session.vault.verified[pin.username];
	if (isVerifiedPin(pin, mark)) {
		out(t('safety.verified', { since: formatTime(mark.verifiedAt) }));
	} else {
		out(t('safety.notVerified', { peer: pin.username }));
	}
	if (qr) {
		const code = encodeSafetyCode(session.username, pin.username, number);
		out(t('safety.qrFor', { peer: pin.username }));
		out(await QRCode.toString(code, { type: 'terminal', small: true, errorCorrectionLevel: 'M' }));
		out(`${t('safety.code')} ${code}`);
	}
}

function safetyNumberWith(session: LocalSession, pin: PinnedKeys): string {
	return safetyNumber(
		{ username: session.username, keys: decodePublicIdentity(session.vault.user.identity) },
		{ username: pin.username, keys: { signPk: fromB64(pin.signPk), boxPk: fromB64(pin.boxPk) } },
	);
}

/** Compares what the peer reads out or shows with this device's number; only a match marks the keys verified. */
async function verify(session: LocalSession, peer: string, code: string): Promise<void> {
	await session.ensureSignedIn();
	let pin: PinnedKeys;
	try {
		// The keys the hub gives now must be the pinned ones: a pending key change is accepted first.
		pin = await session.offlineMessenger().peerKeys(peer, { refresh: true });
	} catch (error) {
		if (error instanceof KeyChangedError) delete session.vault.verified[peer];
		throw error;
	} finally {
		session.save();
	}
	const check = checkSafetyCode(code, session.username, pin.username, safetyNumberWith(session, pin));
	switch (check.result) {
		case 'match':
			session.vault.verified[pin.username] = verificationOf(pin, Date.now());
			session.save();
			session.ctx.out(t('verify.match', { peer: pin.username }));
			return;
		case 'own-code':
			throw new UsageError(t('verify.ownCode', { peer: pin.username }));
		case 'unreadable':
			throw new UsageError(t('verify.unreadable'));
		case 'mismatch':
			throw new SafetyMismatchError(
				t(check.reason === 'people' ? 'verify.otherPeople' : 'verify.mismatch', {
					peer: pin.username,
					me: session.username,
				}),
			);
	}
}

async function unverify(session: LocalSession, peer: string): Promise<void> {
	const had = peer in session.vault.verified;
	delete session.vault.verified[peer];
	session.save();
	session.ctx.out(t(had ? 'unverify.done' : 'unverify.notVerified', { peer }));
}

async function password(session: LocalSession, keepSessions: boolean): Promise<void> {
	const next = await session.ctx.newPassword(t('prompt.newPassword', { username: session.username }));
	checkPasswordLength(next);
	const revoked = await session.changePassword(next, keepSessions);
	const others = keepSessions ? t('password.kept') : t('password.revoked', { count: revoked });
	session.ctx.out(`${t('password.done', { username: session.username })} ${others}`);
}

async function logout(session: LocalSession, forget: boolean): Promise<void> {
	if (session.jar.hasSession()) {
		try {
			await session.api.logout();
		} catch (error) {
			// A session the hub already ended is as good as ended now.
			if (!(error instanceof ApiError) || error.code !== 'UNAUTHENTICATED') throw error;
		}
	}
	// The device token stays (sealed in the vault) unless the account is forgotten here.
	session.jar.forgetSession();
	if (forget) {
		session.ctx.store.remove(session.ctx.server, session.username);
		session.ctx.out(t('logout.forgot', { username: session.username }));
		return;
	}
	session.save();
	session.ctx.out(t('logout.done', { username: session.username }));
}

async function enableTwoFactor(session: LocalSession): Promise<void> {
	await session.ensureSignedIn();
	try {
		const { secret, uri } = await session.api.totpSetup({ authKey: session.authKey() });
		const qr = await QRCode.toString(uri, { type: 'terminal', small: true });
		const out = session.ctx.out;
		out(t('2fa.scan'));
		out(qr);
		out(`URI: ${uri}`);
		out(`${t('2fa.secret')} ${secret}`);
		const code = parseCode(await session.ctx.code(t('prompt.appCode')));
		const { recoveryCodes } = await session.api.totpEnable({ code });
		out(t('2fa.on', { username: session.username }));
		out(t('2fa.recovery'));
		for (const recovery of recoveryCodes) out(`  ${recovery}`);
	} finally {
		session.save();
	}
}

async function disableTwoFactor(session: LocalSession, code: string | null): Promise<void> {
	await session.ensureSignedIn();
	try {
		const given = code ?? parseCode(await session.ctx.code(t('prompt.code')));
		await session.api.totpDisable({ authKey: session.authKey(), code: given });
		session.ctx.out(t('2fa.off', { username: session.username }));
	} finally {
		session.save();
	}
}

/**
 * Deletes the account on the hub (the password, and a code when two-factor authentication is on:
 * asked for when not given), then this device's profile of it.
 */
async function deleteAccount(session: LocalSession, code: string | null): Promise<void> {
	await session.ensureSignedIn();
	const remove = (given: string | null) =>
		session.api.deleteAccount({ authKey: session.authKey(), ...(given === null ? {} : { code: given }) });
	try {
		await remove(code);
	} catch (error) {
		if (!(error instanceof ApiError) || error.code !== 'TOTP_REQUIRED' || code !== null) {
			session.save();
			throw error;
		}
		try {
			await remove(parseCode(await session.ctx.code(t('prompt.code'))));
		} catch (again) {
			session.save();
			throw again;
		}
	}
	session.jar.forgetSession();
	session.ctx.store.remove(session.ctx.server, session.username);
	session.ctx.out(t('account.deleted', { username: session.username }));
}

/** Lists this account's devices, or signs one (by the start of its id) or all the others out. */
/** The newest `limit` events of the account's activity log, following pages. */
async function activity(session: LocalSession, limit: number): Promise<void> {
	await session.ensureSignedIn();
	const events: ActivityEvent[] = [];
	let before: string | undefined;
	while (events.length < limit) {
		const page = await session.api.activity({
			before,
			limit: Math.min(LIMITS.activityPageMax, limit - events.length),
		});
		events.push(...page.events);
		if (!page.more || page.events.length === 0) break;
		before = page.events[page.events.length - 1].id;
	}
	if (events.length === 0) {
		session.ctx.out(t('activity.none'));
		return;
	}
	for (const line of formatActivity(events)) session.ctx.out(line);
}

async function sessions(session: LocalSession, target: SessionTarget | null): Promise<void> {
	await session.ensureSignedIn();
	try {
		if (target === null) {
			const { sessions: list } = await session.api.sessions();
			// The current session was seen by the hub just now: its clock, not this machine's.
			const hubNow = list.find((s) => s.current)?.lastSeenAt ?? Date.now();
			for (const line of formatSessions(list, hubNow)) session.ctx.out(line);
			session.ctx.out(t('sessions.hint'));
			return;
		}
		if (target === 'others') {
			const { revoked } = await session.api.revokeSessions('others');
			session.ctx.out(t('sessions.revokedOthers', { count: revoked }));
			return;
		}
		const { sessions: list } = await session.api.sessions();
		const matches = list.filter((s) => s.id.startsWith(target.idPrefix));
		if (matches.length === 0) {
			throw new ApiError(
				'NOT_FOUND',
				t('sessions.noMatch', { username: session.username, prefix: target.idPrefix }),
				0,
			);
		}
		if (matches.length > 1) throw new UsageError(t('sessions.ambiguous', { prefix: target.idPrefix }));
		const [chosen] = matches;
		await session.api.revokeSessions({ id: chosen.id });
		if (chosen.current) {
			session.jar.forgetSession();
			session.ctx.out(t('sessions.revokedThis'));
		} else {
			const id = chosen.id.slice(0, SESSION_ID_SHOWN);
			session.ctx.out(t('sessions.revokedOne', { device: chosen.device, id }));
		}
	} finally {
		session.save();
	}
}

/** Lists contacts and blocks, adds one (by name, or by a card whose fingerprint is checked), removes one. */
async function contacts(session: LocalSession, action: ContactsAction): Promise<void> {
	await session.ensureSignedIn();
	const out = session.ctx.out;
	try {
		switch (action.kind) {
			case 'list': {
				const { contacts: list } = await session.api.contacts();
				for (const line of formatContacts(list)) out(line);
				return;
			}
			case 'add': {
				const messenger = session.offlineMessenger();
				// Pinned on first use, as a first message would; `safety` compares them in person.
				await messenger.peerKeys(action.peer, { refresh: true });
				await session.api.setContact(action.peer, 'accepted');
				out(t('contacts.added', { peer: action.peer }));
				return;
			}
			case 'add-card': {
				const { contact } = await addContactFromCard(session.offlineMessenger(), action.card);
				out(t('contacts.addedCard', { peer: contact.username }));
				return;
			}
			case 'remove': {
				const { removed } = await session.api.removeContact(action.peer);
				out(t(removed ? 'contacts.removed' : 'contacts.notContact', { peer: action.peer }));
				return;
			}
		}
	} finally {
		session.save();
	}
}

/**
 * Message requests: incoming messages still on the hub from people who are neither contacts nor
 * blocked, one line per sender with their first message.
 */
async function requests(session: LocalSession): Promise<void> {
	await session.ensureSignedIn();
	const messenger = await session.messenger();
	try {
		const [{ contacts: list }, synced] = await Promise.all([session.api.contacts(), messenger.syncAll(null)]);
		const known = new Set(list.map((c) => c.username));
		const incoming = synced.messages.filter((m) => m.direction === 'in' && !known.has(m.from));
		for (const line of formatRequests(incoming)) session.ctx.out(line);
	} finally {
		session.save();
	}
}

const RELATE_DONE = {
	accept: 'relate.accept',
	decline: 'relate.decline',
	block: 'relate.block',
	unblock: 'relate.unblock',
} as const;

async function relate(
	session: LocalSession,
	action: 'accept' | 'decline' | 'block' | 'unblock',
	peer: string,
): Promise<void> {
	await session.ensureSignedIn();
	try {
		if (action === 'accept') await session.api.setContact(peer, 'accepted');
		else if (action === 'block') await session.api.setContact(peer, 'blocked');
		else if (action === 'unblock') await session.api.removeContact(peer);
		else {
			const { deleted } = await session.api.declineRequest(peer);
			session.ctx.out(`${t(RELATE_DONE.decline, { peer })} ${t('relate.deleted', { count: deleted })}`);
			return;
		}
		session.ctx.out(t(RELATE_DONE[action], { peer }));
	} finally {
		session.save();
	}
}

/** This account's contact card link, and with `--qr` the same as a terminal QR code. */
async function card(session: LocalSession, qr: boolean): Promise<void> {
	const link = ownContactCard(session.ctx.server, { username: session.username, user: session.vault.user });
	session.ctx.out(link);
	if (qr) session.ctx.out(await QRCode.toString(link, { type: 'terminal', small: true }));
}
