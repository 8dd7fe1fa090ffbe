import { LIMITS, type ActivityEvent, type SealedNotice } from '../src/lib/protocol';
import { decodePublicIdentity, fromB64, ready, safetyNumber } from '../src/lib/crypto';
import {
	ApiError,
	KeyChangedError,
	createAccount,
	deriveInPlace,
	normaliseUsername,
	openAccountKeys,
	overlapCursor,
	readFile,
	sendFile,
	signIn,
	type TransferProgress,
	type DecodedMessage,
	type Deriver,
	type Messenger,
} from '../src/lib/sdk';
import QRCode from 'qrcode';
import { UsageError, parseCode, type Command, type SessionTarget } from './args';
import { CookieJar } from './cookies';
import { diskSource, formatBytes, formatProgress, safeFileName, saveInto } from './files';
import {
	SESSION_ID_SHOWN,
	formatActivity,
	formatMessage,
	formatSealed,
	formatSessions,
	formatTime,
	safeText,
} from './format';
import { openVault, type Profile, type Vault } from './profile';
import {
	LocalSession,
	checkPasswordLength,
	completeSecondFactor,
	hubApi,
	profileFrom,
	type CliContext,
} from './session';

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
			return withSession(ctx, (session) => read(session, command.saveDir));
		case 'safety':
			return withSession(ctx, (session) => safety(session, command.peer, command.accept));
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
	const password = await ctx.password(`Choose a password for ${username}: `, true);
	checkPasswordLength(password);
	const jar = new CookieJar();
	const account = await createAccount(hubApi(ctx.server, jar), username, password);
	const { profile } = profileFrom(ctx.server, account, jar, null);
	ctx.store.write(profile);
	ctx.store.setCurrent(ctx.server, account.username);
	ctx.out(`Registered ${account.username} on ${ctx.server}.`);
	ctx.out(
		`Your keys stay on this device, sealed with your password: ${ctx.store.path(ctx.server, account.username)}`,
	);
}

async function login(ctx: CliContext, username: string, trust: boolean, code: string | null): Promise<void> {
	const password = await ctx.password(`Password for ${username}: `);
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
	ctx.out(`Signed in as ${account.username} on ${ctx.server}${trust ? ' (trusted device)' : ''}.`);
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
		});
		session.vault.seen[envelope.id] = result.syncKey;
		const again = result.duplicate ? ' (already stored)' : '';
		if (result.state === 'locked' && envelope.unlockAt !== null) {
			const told = envelope.announce ? `${envelope.to} sees a sealed message` : `${envelope.to} is not told`;
			session.ctx.out(
				`Locked ${envelope.id} for ${envelope.to} until ${formatTime(envelope.unlockAt)}; ${told}.${again}`,
			);
		} else {
			session.ctx.out(`Sent ${envelope.id} to ${envelope.to}.${again}`);
		}
	} finally {
		session.save();
	}
}

/** Reports progress at most once per percent, so a large file does not flood stderr. */
function progressLine(session: LocalSession, name: string): (progress: TransferProgress) => void {
	let shown = -1;
	return (progress) => {
		const percent =
			progress.totalBytes === 0 ? 100 : Math.floor((progress.doneBytes / progress.totalBytes) * 100);
		if (percent === shown) return;
		shown = percent;
		session.ctx.progress?.(formatProgress(name, progress), progress.doneBytes >= progress.totalBytes);
	};
}

async function sendFileCommand(
	session: LocalSession,
	command: Extract<Command, { name: 'send-file' }>,
): Promise<void> {
	let source;
	try {
		source = diskSource(command.path);
	} catch (error) {
		throw new UsageError(`send-file: cannot read ${command.path} (${(error as Error).message})`);
	}
	await session.ensureSignedIn();
	const messenger = await session.messenger();
	// The same file (path, size, modification time) to the same user resumes its upload.
	const uploadKey = JSON.stringify([command.to, command.path, source.size, source.mtimeMs]);
	const uploads = (session.vault.uploads ??= {});
	try {
		await messenger.peerKeys(command.to, { refresh: true });
		const options = {
			unlockAt: command.unlockAt,
			announce: command.announce,
			onProgress: progressLine(session, source.name),
			onState: (state: NonNullable<typeof uploads>[string]) => {
				uploads[uploadKey] = state;
				session.save();
			},
		};
		let sent;
		try {
			sent = await sendFile(messenger, command.to, source, { ...options, resume: uploads[uploadKey] });
		} catch (error) {
			// The upload to resume is gone (swept, or sent already): start again.
			if (!(error instanceof ApiError && error.code === 'NOT_FOUND' && uploads[uploadKey])) throw error;
			delete uploads[uploadKey];
			sent = await sendFile(messenger, command.to, source, options);
		}
		const { envelope, result, file } = sent;
		delete uploads[uploadKey];
		session.vault.seen[envelope.id] = result.syncKey;
		const what = `${file.name} (${formatBytes(file.size)}, file ${file.fileId})`;
		if (result.state === 'locked' && envelope.unlockAt !== null) {
			const told = envelope.announce ? `${envelope.to} sees a sealed message` : `${envelope.to} is not told`;
			session.ctx.out(
				`Locked ${envelope.id} for ${envelope.to} until ${formatTime(envelope.unlockAt)}: ${what}; ${told}.`,
			);
		} else {
			session.ctx.out(`Sent ${envelope.id} to ${envelope.to}: ${what}.`);
		}
	} finally {
		session.save();
	}
}

/** Saves the file a received message carries into `dir`; prints its path, or why it was not saved. */
async function saveFile(
	session: LocalSession,
	messenger: Messenger,
	message: DecodedMessage,
	dir: string,
): Promise<void> {
	const file = message.file!;
	const name = safeFileName(file.name);
	if (name === null) {
		session.ctx.out(`  not saved: "${safeText(file.name)}" is not a plain file name`);
		return;
	}
	const target = saveInto(dir);
	try {
		await readFile(messenger, message, target.sink, { onProgress: progressLine(session, name) });
	} catch (error) {
		// Refused (altered, truncated, another hash) or not reachable: nothing of it is kept.
		await target.discard();
		session.ctx.out(`  not saved: ${(error as Error).message}`);
		return;
	}
	session.ctx.out(`  saved ${await target.keep(name)}`);
}

async function read(session: LocalSession, saveDir: string | null): Promise<void> {
	await session.ensureSignedIn();
	const messenger = await session.messenger();
	const sealed = new Map<string, SealedNotice>();
	try {
		const result = await messenger.syncAll(session.vault.cursor, (page) => {
			for (const notice of page.sealed) sealed.set(notice.id, notice);
		});
		// The overlap window returns some messages again: print each id once, ever.
		const fresh = [...new Map(result.messages.map((m) => [m.id, m])).values()].filter(
			(m) => session.vault.seen[m.id] === undefined,
		);
		for (const message of fresh) {
			session.ctx.out(formatMessage(message));
			if (message.file && message.direction === 'in') {
				if (saveDir) await saveFile(session, messenger, message, saveDir);
				else session.ctx.out('  (run "hourglass read --save-dir <dir>" to save received files)');
			}
		}
		if (fresh.length === 0) session.ctx.out('No new messages.');
		for (const notice of [...sealed.values()].sort((a, b) => a.unlockAt - b.unlockAt)) {
			session.ctx.out(formatSealed(notice, result.serverNow));
		}
		rememberRead(session, fresh, result.cursor);
		const received = fresh
			.filter((m) => m.direction === 'in' && (m.text !== null || m.file !== undefined))
			.map((m) => m.id);
		if (received.length > 0) await messenger.receipt(received);
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

async function safety(session: LocalSession, peer: string, accept: boolean): Promise<void> {
	await session.ensureSignedIn();
	const messenger = session.offlineMessenger();
	let pin;
	try {
		pin = await messenger.peerKeys(peer, { refresh: true });
	} catch (error) {
		if (!(error instanceof KeyChangedError) || !accept) throw error;
		pin = await messenger.acceptKeyChange(error);
		session.ctx.out(`Accepted the new keys of ${peer}. Compare the new safety number with them in person.`);
	} finally {
		session.save();
	}
	const number = safetyNumber(
		{ username: session.username, keys: decodePublicIdentity(session.vault.user.identity) },
		{ username: pin.username, keys: { signPk: fromB64(pin.signPk), boxPk: fromB64(pin.boxPk) } },
	);
	session.ctx.out(`Safety number for ${session.username} and ${pin.username} (the same on both sides):`);
	session.ctx.out(number);
}

async function password(session: LocalSession, keepSessions: boolean): Promise<void> {
	const next = await session.ctx.newPassword(`New password for ${session.username}: `);
	checkPasswordLength(next);
	const revoked = await session.changePassword(next, keepSessions);
	const others = keepSessions
		? 'Your other sessions stay signed in.'
		: `${revoked} other session${revoked === 1 ? '' : 's'} signed out; they sign in again with the new password.`;
	session.ctx.out(`Changed the password of ${session.username}. ${others}`);
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
		session.ctx.out(`Signed out ${session.username} and deleted this device's copy of its keys.`);
		return;
	}
	session.save();
	session.ctx.out(`Signed out ${session.username}. Its sealed keys stay on this device.`);
}

async function enableTwoFactor(session: LocalSession): Promise<void> {
	await session.ensureSignedIn();
	try {
		const { secret, uri } = await session.api.totpSetup({ authKey: session.authKey() });
		const qr = await QRCode.toString(uri, { type: 'terminal', small: true });
		const out = session.ctx.out;
		out('Scan this QR code with an authenticator app, or enter the secret by hand:');
		out(qr);
		out(`URI: ${uri}`);
		out(`Secret: ${secret}`);
		const code = parseCode(await session.ctx.code('Code shown by the app: '));
		const { recoveryCodes } = await session.api.totpEnable({ code });
		out(`Two-factor authentication is on for ${session.username}. Signing in now asks for a code.`);
		out('Recovery codes (each signs in once; keep them somewhere safe, they are not shown again):');
		for (const recovery of recoveryCodes) out(`  ${recovery}`);
	} finally {
		session.save();
	}
}

async function disableTwoFactor(session: LocalSession, code: string | null): Promise<void> {
	await session.ensureSignedIn();
	try {
		const given =
			code ?? parseCode(await session.ctx.code('Code from your authenticator app (or a recovery code): '));
		await session.api.totpDisable({ authKey: session.authKey(), code: given });
		session.ctx.out(`Two-factor authentication is off for ${session.username}.`);
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
			await remove(
				parseCode(await session.ctx.code('Code from your authenticator app (or a recovery code): ')),
			);
		} catch (again) {
			session.save();
			throw again;
		}
	}
	session.jar.forgetSession();
	session.ctx.store.remove(session.ctx.server, session.username);
	session.ctx.out(`Deleted the account ${session.username} on the hub, and this device's copy of its keys.`);
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
		session.ctx.out('No activity recorded.');
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
			session.ctx.out(
				'Sign one out with "hourglass sessions revoke <ID>", every other with "hourglass sessions revoke --others".',
			);
			return;
		}
		if (target === 'others') {
			const { revoked } = await session.api.revokeSessions('others');
			session.ctx.out(`Signed out ${revoked} other device${revoked === 1 ? '' : 's'}.`);
			return;
		}
		const { sessions: list } = await session.api.sessions();
		const matches = list.filter((s) => s.id.startsWith(target.idPrefix));
		if (matches.length === 0) {
			throw new ApiError(
				'NOT_FOUND',
				`No session of ${session.username} has an id starting "${target.idPrefix}".`,
				0,
			);
		}
		if (matches.length > 1)
			throw new UsageError(`"${target.idPrefix}" starts several session ids: give more of it`);
		const [chosen] = matches;
		await session.api.revokeSessions({ id: chosen.id });
		if (chosen.current) {
			session.jar.forgetSession();
			session.ctx.out('Signed this device out; the next command signs in again.');
		} else {
			session.ctx.out(`Signed out ${chosen.device} (${chosen.id.slice(0, SESSION_ID_SHOWN)}).`);
		}
	} finally {
		session.save();
	}
}
