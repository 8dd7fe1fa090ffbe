import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
	copyFileSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	readdirSync,
	rmSync,
	statSync,
	symlinkSync,
	utimesSync,
	writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, generateSync } from 'otplib';
import { buildCli } from '../../scripts/build-cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileLayout } from '../../src/lib/crypto';
import { HubApi } from '../../src/lib/sdk';
import { openTestDb } from '../helpers/db';
import { startThrottledProxy, type ThrottledProxy } from '../helpers/faults';
import { startTestHub } from '../helpers/hub';
import { fetchFrom } from '../helpers/users';

/**
 * The CLI as a user runs it: each command a separate process of the `hourglass` command
 * (bin/hourglass.js, on the bundle built here from the sources as they are), each user with their
 * own HOURGLASS_HOME, against a real hub and database.
 */

const ROOT = process.cwd();
const PASSWORD = 'cli test password 0123';
const COMMAND_TIMEOUT_MS = 30_000;

interface Run {
	code: number | null;
	stdout: string;
	stderr: string;
}

let hub: Awaited<ReturnType<typeof startTestHub>>;
const homes: string[] = [];

function newHome(): string {
	const home = mkdtempSync(join(tmpdir(), 'hourglass-cli-'));
	homes.push(home);
	return home;
}

/** Told each piece of output as it comes, with the process: to act on it while it runs (kill it, cut its link). */
type OnOutput = (stream: 'stdout' | 'stderr', text: string, child: ChildProcess) => void;

/**
 * Runs a command. With `answer`, stdin is a pipe: once the output so far makes `answer` give a line
 * (what it waits for was printed), that line is typed and stdin closed.
 */
function run(
	node: string[],
	home: string,
	args: string[],
	env: Record<string, string> = {},
	answer?: (stdout: string) => string | null,
	onOutput?: OnOutput,
): Promise<Run> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [...node, ...args], {
			cwd: ROOT,
			env: {
				...process.env,
				// English unless a test asks for another language (the machine's own may be anything).
				LANGUAGE: '',
				LC_ALL: 'C.UTF-8',
				HOURGLASS_HOME: home,
				HOURGLASS_SERVER: hub.url,
				HOURGLASS_PASSWORD: PASSWORD,
				...env,
			},
			stdio: ['pipe', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		let answered = false;
		const type = () => {
			const line = answer && !answered ? answer(stdout) : null;
			if (line === null) return;
			answered = true;
			child.stdin.end(`${line}\n`);
		};
		child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
			stdout += chunk;
			type();
			onOutput?.('stdout', chunk, child);
		});
		// An answer known before anything is printed (a prompt on stderr) is typed at once; without
		// `answer`, stdin is empty.
		if (answer) type();
		else child.stdin.end();
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
			stderr += chunk;
			onOutput?.('stderr', chunk, child);
		});
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(
				new Error(
					`hourglass ${args.join(' ')} did not exit within ${COMMAND_TIMEOUT_MS} ms: ${stdout} | ${stderr}`,
				),
			);
		}, COMMAND_TIMEOUT_MS);
		child.on('error', reject);
		child.on('close', (code) => {
			clearTimeout(timer);
			resolve({ code, stdout, stderr });
		});
	});
}

const cli = (
	home: string,
	args: string[],
	env?: Record<string, string>,
	answer?: (stdout: string) => string | null,
	onOutput?: OnOutput,
) => run([join(ROOT, 'bin/hourglass.js')], home, args, env, answer, onOutput);

/**
 * Runs `read` until what it printed, all runs together, matches; fails at the deadline.
 * (A release happens on the hub's schedule; each run is a full command, so this is no busy loop.)
 */
async function readUntil(home: string, pattern: RegExp, timeoutMs: number): Promise<string> {
	const deadline = Date.now() + timeoutMs;
	let seen = '';
	while (Date.now() < deadline) {
		const result = await cli(home, ['read']);
		expect(result.code, result.stderr).toBe(0);
		seen += result.stdout;
		if (pattern.test(seen)) return seen;
	}
	throw new Error(`read never printed ${pattern} within ${timeoutMs} ms; it printed:\n${seen}`);
}

/** Local time as DD:MM:YYYY:HH:MM:SS, the form of the first version of the product. */
function legacyDate(ms: number): string {
	const d = new Date(ms);
	const p = (n: number) => String(n).padStart(2, '0');
	return `${p(d.getDate())}:${p(d.getMonth() + 1)}:${d.getFullYear()}:${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

describe('the hourglass CLI against a real hub', () => {
	let alice: string;
	let bob: string;

	beforeAll(async () => {
		[hub] = await Promise.all([startTestHub({ name: 'cli' }), buildCli()]);
		alice = newHome();
		bob = newHome();
	});

	afterAll(async () => {
		await hub?.stop();
		for (const home of homes) rmSync(home, { recursive: true, force: true });
	});

	it('registers two users and keeps each identity sealed on disk', async () => {
		const [a, b] = await Promise.all([cli(alice, ['register', 'alice']), cli(bob, ['register', 'Bob'])]);
		expect(a.code, a.stderr).toBe(0);
		expect(a.stdout).toContain(`Registered alice on ${hub.url}`);
		expect(b.code, b.stderr).toBe(0);
		expect(b.stdout).toContain('Registered bob');

		const dir = readdirSync(alice).find((name) => name.startsWith('http_'))!;
		const file = join(alice, dir, 'alice.json');
		expect(statSync(file).mode & 0o077).toBe(0);
		const text = readFileSync(file, 'utf8');
		const profile = JSON.parse(text) as Record<string, unknown>;
		expect(Object.keys(profile).sort()).toEqual([
			'kdf',
			'keyBackup',
			'salt',
			'server',
			'username',
			'v',
			'vault',
		]);
		expect(text).not.toContain(PASSWORD);
		expect(text).not.toMatch(/signSk|boxSk|cookie|session/i);
	});

	it('sends a message that the recipient reads once', async () => {
		const sent = await cli(alice, ['send', 'bob', 'hello from the command line']);
		expect(sent.code, sent.stderr).toBe(0);
		expect(sent.stdout).toMatch(/^Sent [0-9a-f-]{36} to bob\.$/m);

		const first = await cli(bob, ['read']);
		expect(first.code, first.stderr).toBe(0);
		expect(first.stdout).toMatch(/ [0-9a-f-]{36}\] alice → bob: hello from the command line$/m);

		const second = await cli(bob, ['read']);
		expect(second.code, second.stderr).toBe(0);
		expect(second.stdout).not.toContain('hello from the command line');
		expect(second.stdout).toContain('No new messages.');
	});

	it('speaks French when the environment does, with ids, codes and times as in English', async () => {
		const fr = { LC_ALL: 'fr_FR.UTF-8' };
		const sent = await cli(alice, ['send', 'bob', 'bonjour depuis la ligne de commande'], fr);
		expect(sent.code, sent.stderr).toBe(0);
		expect(sent.stdout).toMatch(/^[0-9a-f-]{36} envoyé à bob\.$/m);
		const read = await cli(bob, ['read'], fr);
		expect(read.stdout).toMatch(
			/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [0-9a-f-]{36}\] alice → bob: bonjour depuis/m,
		);
		expect((await cli(bob, ['read'], fr)).stdout).toContain('Aucun nouveau message.');
		const help = await cli(bob, ['help'], { LC_ALL: '', LC_MESSAGES: '', LANG: 'fr_FR.UTF-8' });
		expect(help.stdout).toMatch(/^Utilisation : hourglass/);
		const bad = await cli(bob, ['send', 'bob'], { LANGUAGE: 'fr:en', LC_ALL: 'de_DE.UTF-8' });
		expect(bad.code).toBe(2);
		expect(bad.stderr).toContain('utilisation : hourglass send <user> <text>');
		expect(bad.stderr).toContain('Lancez « hourglass help » pour voir les commandes.');
		const wrong = await cli(bob, ['read'], { ...fr, HOURGLASS_PASSWORD: 'not the password at all' });
		expect(wrong.code).toBe(1);
		expect(wrong.stderr).toMatch(/^hourglass: INVALID_CREDENTIALS: Mot de passe incorrect/m);
		const past = await cli(alice, ['send', 'bob', 'trop tard', '--unlock', '2001-01-01T00:00Z'], fr);
		expect(past.code).toBe(1);
		expect(past.stderr).toMatch(
			/^hourglass: UNLOCK_IN_PAST: L’heure d’ouverture doit être dans le futur\.$/m,
		);
	});

	it('replies the other way', async () => {
		const sent = await cli(bob, ['send', 'alice', 'hi alice, line one\nline two']);
		expect(sent.code, sent.stderr).toBe(0);
		const read = await cli(alice, ['read']);
		expect(read.code, read.stderr).toBe(0);
		expect(read.stdout).toMatch(/ [0-9a-f-]{36}\] bob → alice: hi alice, line one\n {4}line two$/m);
	});

	it('verifies a contact by safety number: right digits mark it verified, wrong ones exit 1 and mark nothing', async () => {
		const numberOf = (stdout: string) => stdout.match(/^(\d{5}(?: \d{5}){11})$/m)?.[1];
		const mine = await cli(alice, ['safety', 'bob']);
		expect(mine.code, mine.stderr).toBe(0);
		expect(mine.stdout).toContain('Verified: no.');
		const theirs = await cli(bob, ['safety', 'alice']);
		expect(theirs.code, theirs.stderr).toBe(0);
		const number = numberOf(mine.stdout)!;
		expect(number).toBeDefined();
		expect(numberOf(theirs.stdout)).toBe(number);

		const digits = number.replace(/ /g, '');
		const wrong = `${digits.slice(0, 59)}${digits[59] === '0' ? '1' : '0'}`;
		const mismatch = await cli(alice, ['verify', 'bob', wrong]);
		expect(mismatch.code).toBe(1);
		expect(mismatch.stderr).toContain('SAFETY_MISMATCH');
		expect(mismatch.stderr).toContain('Nothing was marked verified');
		expect((await cli(alice, ['safety', 'bob'])).stdout).toContain('Verified: no.');

		// Read out group by group: twelve arguments.
		const match = await cli(alice, ['verify', 'bob', ...number.split(' ')]);
		expect(match.code, match.stderr).toBe(0);
		expect(match.stdout).toContain('Match: bob is verified on this device.');
		const shown = await cli(alice, ['safety', 'bob', '--qr']);
		expect(shown.code, shown.stderr).toBe(0);
		expect(shown.stdout).toMatch(/^Verified: yes, on this device since /m);
		expect(shown.stdout).toContain(`Code: hourglass-safety:1:alice:bob:${digits}`);
		expect(shown.stdout).toMatch(/[▀▄█]{10}/);

		// Bob takes the text of Alice's QR code; his own code, a third pair's and a short number are refused.
		const code = shown.stdout.match(/^Code: (\S+)$/m)![1];
		const own = await cli(bob, ['verify', 'alice', `hourglass-safety:1:bob:alice:${digits}`]);
		expect(own.code).toBe(2);
		expect(own.stderr).toContain('your own safety code');
		const others = await cli(bob, ['verify', 'alice', `hourglass-safety:1:carol:bob:${digits}`]);
		expect(others.code).toBe(1);
		expect(others.stderr).toContain('another pair of people');
		const short = await cli(bob, ['verify', 'alice', digits.slice(1)]);
		expect(short.code).toBe(2);
		expect(short.stderr).toContain('does not have 60 digits');
		expect((await cli(bob, ['safety', 'alice'])).stdout).toContain('Verified: no.');
		const scanned = await cli(bob, ['verify', 'alice', code]);
		expect(scanned.code, scanned.stderr).toBe(0);
		expect((await cli(bob, ['safety', 'alice'])).stdout).toContain('Verified: yes');

		const undone = await cli(alice, ['unverify', 'bob']);
		expect(undone.code, undone.stderr).toBe(0);
		expect(undone.stdout).toContain('bob is no longer verified on this device.');
		expect((await cli(alice, ['safety', 'bob'])).stdout).toContain('Verified: no.');
	});

	it('prints message ids, marks what it printed read for the other devices, and sends read receipts when on', async () => {
		const db = await openTestDb(hub.mongoUri);
		try {
			const controls = (from: string, to: string) =>
				db.collection('envelopes').countDocuments({ from, to, kind: 'control' });
			for (const home of [alice, bob]) {
				const on = await cli(home, ['receipts', 'on']);
				expect(on.code, on.stderr).toBe(0);
				expect(on.stdout).toMatch(/^Read receipts are on for every device of (alice|bob)\.$/m);
			}
			const sent = await cli(alice, ['send', 'bob', 'read me']);
			const id = /^Sent ([0-9a-f-]{36}) to bob\.$/m.exec(sent.stdout)![1];
			const markersBefore = await controls('bob', 'bob');
			const read = await cli(bob, ['read']);
			expect(read.code, read.stderr).toBe(0);
			expect(read.stdout).toContain(` ${id}] alice → bob: read me`);
			// One marker for bob's other devices, one receipt for alice.
			expect(await controls('bob', 'bob')).toBe(markersBefore + 1);
			expect(await controls('bob', 'alice')).toBe(1);
			const back = await cli(alice, ['read']);
			expect(back.code, back.stderr).toBe(0);
			expect(back.stdout).toMatch(new RegExp(`^read: bob read ${id}$`, 'm'));
			expect(back.stdout).toContain('No new messages.');

			// --peer prints one conversation (dora has written nothing); the others wait for the next read.
			expect((await cli(alice, ['send', 'bob', 'from alice again'])).code).toBe(0);
			const fromDora = await cli(bob, ['read', '--peer', 'dora']);
			expect(fromDora.code, fromDora.stderr).toBe(0);
			expect(fromDora.stdout).not.toContain('from alice again');
			expect(fromDora.stdout).toContain('No new messages.');
			const onlyAlice = await cli(bob, ['read', '--peer', 'alice']);
			expect(onlyAlice.stdout).toContain('alice → bob: from alice again');
			const rest = await cli(bob, ['read']);
			expect(rest.stdout).not.toContain('from alice again');
		} finally {
			await db.close();
		}
	});

	it('restores the identity on a second device from the key backup and reads the history', async () => {
		const device = newHome();
		const login = await cli(device, ['login', 'bob']);
		expect(login.code, login.stderr).toBe(0);
		expect(login.stdout).toContain('Signed in as bob');
		const read = await cli(device, ['read']);
		expect(read.code, read.stderr).toBe(0);
		expect(read.stdout).toContain('alice → bob: hello from the command line');
	});

	it('lists the devices of an account and signs one, then every other, out', async () => {
		const phone = newHome();
		expect((await cli(phone, ['login', 'bob'])).code).toBe(0);
		const row =
			/^([* ]) {2}([A-Za-z0-9_-]{10}) {2}Hourglass CLI on \w+ +\d{4}-\d\d-\d\d [\d:]{8} {2}(?:now|\S+ ago) +127\.0\.0\.0\/16/gm;
		const rows = (stdout: string) =>
			[...stdout.matchAll(row)].map((m) => ({ current: m[1] === '*', id: m[2] }));

		const listed = await cli(bob, ['sessions']);
		expect(listed.code, listed.stderr).toBe(0);
		// bob's first home, the second device of the test before, and the phone.
		const devices = rows(listed.stdout);
		expect(devices).toHaveLength(3);
		expect(devices.filter((d) => d.current)).toHaveLength(1);
		const phoneId = rows((await cli(phone, ['sessions'])).stdout).find((d) => d.current)!.id;
		expect(devices.map((d) => d.id)).toContain(phoneId);

		const one = await cli(bob, ['sessions', 'revoke', phoneId]);
		expect(one.code, one.stderr).toBe(0);
		expect(one.stdout).toContain(`Signed out Hourglass CLI on`);
		expect(rows((await cli(bob, ['sessions'])).stdout).map((d) => d.id)).not.toContain(phoneId);

		const unknown = await cli(bob, ['sessions', 'revoke', 'zzzzzzzzzz']);
		expect(unknown.code).toBe(1);
		expect(unknown.stderr).toMatch(/^hourglass: NOT_FOUND: /m);
		expect((await cli(bob, ['sessions', 'revoke'])).code).toBe(2);

		const others = await cli(bob, ['sessions', 'revoke', '--others']);
		expect(others.code, others.stderr).toBe(0);
		expect(others.stdout).toContain('Signed out 1 other device.');
		const left = rows((await cli(bob, ['sessions'])).stdout);
		expect(left).toEqual([expect.objectContaining({ current: true })]);
	});

	it("prints the account's activity log: sign-ins, a wrong password from elsewhere, revoked devices", async () => {
		const [home, other] = [newHome(), newHome()];
		expect((await cli(home, ['register', 'hiro'])).code).toBe(0);
		const wrong = await cli(other, ['login', 'hiro'], { HOURGLASS_PASSWORD: 'not hiro password at all' });
		expect(wrong.code).toBe(1);
		expect((await cli(other, ['login', 'hiro'])).code).toBe(0);
		expect((await cli(home, ['sessions', 'revoke', '--others'])).code).toBe(0);

		const shown = await cli(home, ['activity']);
		expect(shown.code, shown.stderr).toBe(0);
		const lines = shown.stdout.trimEnd().split('\n');
		expect(lines[0]).toMatch(/^ {3}WHEN +WHAT +DEVICE +FROM$/);
		const what = lines.slice(1).map((line) => line.split(/ {2,}/)[2]);
		expect(what).toEqual([
			'1 device signed out',
			'Signed in from a new device',
			'Wrong password entered',
			'Account created',
		]);
		expect(lines[2]).toMatch(/^! .*Signed in from a new device +Hourglass CLI on \w+ +127\.0\.0\.0\/16$/);
		expect(lines[3]).toMatch(/^! /);

		const two = await cli(home, ['activity', '--limit', '2']);
		expect(two.stdout.trimEnd().split('\n')).toHaveLength(3);
		for (const bad of ['0', '1001', 'x', '-3']) {
			const refused = await cli(home, ['activity', '--limit', bad]);
			expect(refused.code, bad).toBe(2);
			expect(refused.stderr).toContain('--limit');
		}
		expect((await cli(home, ['activity', '--others'])).code).toBe(2);
	});

	it('changes the password: the other device must sign in with the new one and keeps what it read', async () => {
		const NEW = { HOURGLASS_NEW_PASSWORD: 'another cli password 4567' };
		const NEW_AS_CURRENT = { HOURGLASS_PASSWORD: NEW.HOURGLASS_NEW_PASSWORD };
		const [laptop, phone, gina] = [newHome(), newHome(), newHome()];
		expect((await cli(laptop, ['register', 'frank'])).code).toBe(0);
		expect((await cli(gina, ['register', 'gina'])).code).toBe(0);
		expect((await cli(phone, ['login', 'frank'])).code).toBe(0);
		expect((await cli(gina, ['send', 'frank', 'before the change'])).code).toBe(0);
		const before = await cli(phone, ['read']);
		expect(before.stdout).toContain('gina → frank: before the change');

		const changed = await cli(laptop, ['password'], NEW);
		expect(changed.code, changed.stderr).toBe(0);
		expect(changed.stdout).toContain('Changed the password of frank. 1 other session signed out');
		const oldHere = await cli(laptop, ['read']);
		expect(oldHere.code).toBe(1);
		expect(oldHere.stderr).toContain('INVALID_CREDENTIALS');
		expect((await cli(laptop, ['read'], NEW_AS_CURRENT)).code).toBe(0);

		// The phone's session ended and the old password no longer signs in.
		const oldThere = await cli(phone, ['read']);
		expect(oldThere.code).toBe(1);
		expect(oldThere.stderr).toContain('INVALID_CREDENTIALS');
		const login = await cli(phone, ['login', 'frank'], NEW_AS_CURRENT);
		expect(login.code, login.stderr).toBe(0);
		// Its vault (sealed under the history key) opened again: what it read is not printed twice.
		const after = await cli(phone, ['read'], NEW_AS_CURRENT);
		expect(after.code, after.stderr).toBe(0);
		expect(after.stdout).toContain('No new messages.');

		const noNew = await cli(laptop, ['password'], { ...NEW_AS_CURRENT, HOURGLASS_NEW_PASSWORD: '' });
		expect(noNew.code).toBe(2);
		expect(noNew.stderr).toContain('no new password');
	});

	it('deletes the account with --yes: the hub forgets it, this device forgets its keys, the name is free again', async () => {
		const [laptop, ivy] = [newHome(), newHome()];
		expect((await cli(laptop, ['register', 'hana'])).code).toBe(0);
		expect((await cli(ivy, ['register', 'ivy'])).code).toBe(0);
		expect((await cli(ivy, ['send', 'hana', 'waiting for hana'])).code).toBe(0);

		const unconfirmed = await cli(laptop, ['account', 'delete']);
		expect(unconfirmed.code).toBe(2);
		expect(unconfirmed.stderr).toContain('add --yes');
		const wrong = await cli(laptop, ['account', 'delete', '--yes'], {
			HOURGLASS_PASSWORD: 'not the password at all',
		});
		expect(wrong.code).toBe(1);
		expect(wrong.stderr).toContain('INVALID_CREDENTIALS');

		const deleted = await cli(laptop, ['account', 'delete', '--yes']);
		expect(deleted.code, deleted.stderr).toBe(0);
		expect(deleted.stdout).toContain('Deleted the account hana');
		const after = await cli(laptop, ['read']);
		expect(after.code).not.toBe(0);
		expect(after.stderr).toContain('No account');
		const login = await cli(newHome(), ['login', 'hana']);
		expect(login.code).toBe(1);
		expect(login.stderr).toContain('INVALID_CREDENTIALS');

		// A new owner of the name: new keys, so ivy's pin refuses them; nothing of the old hana's is waiting.
		const again = newHome();
		expect((await cli(again, ['register', 'hana'])).code).toBe(0);
		const read = await cli(again, ['read']);
		expect(read.code, read.stderr).toBe(0);
		expect(read.stdout).toContain('No new messages.');
		const send = await cli(ivy, ['send', 'hana', 'hello again']);
		expect(send.code).toBe(1);
		expect(send.stderr).toContain('The keys of hana have changed');
	});

	it('does not deliver a time-locked message before its unlock date, then does', async () => {
		// Far enough ahead for two sends and a read, each a whole process, even on a busy machine.
		const unlockAt = Date.now() + 15_000;
		// Announced, in ISO form; and a second, silent one in the legacy form, a second later.
		const [announced, silent] = await Promise.all([
			cli(alice, ['send', 'bob', 'opens later', '--unlock', new Date(unlockAt).toISOString(), '--announce']),
			cli(alice, ['send', 'bob', 'quiet surprise', '--unlock', legacyDate(unlockAt + 1_000)]),
		]);
		expect(announced.code, announced.stderr).toBe(0);
		expect(announced.stdout).toMatch(/^Locked [0-9a-f-]{36} for bob until .*; bob sees a sealed message\.$/m);
		expect(silent.code, silent.stderr).toBe(0);
		expect(silent.stdout).toMatch(/; bob is not told\.$/m);

		const early = await cli(bob, ['read']);
		expect(
			Date.now(),
			'the early read must finish before the unlock for this test to mean anything',
		).toBeLessThan(unlockAt);
		expect(early.code, early.stderr).toBe(0);
		expect(early.stdout).not.toContain('opens later');
		expect(early.stdout).not.toContain('quiet surprise');
		// Only the announced one shows, as a sealed notice without its content.
		expect(early.stdout.match(/^sealed: alice → bob, unlocks /gm)).toHaveLength(1);

		const late = await readUntil(
			bob,
			/quiet surprise[^]*opens later|opens later[^]*quiet surprise/,
			unlockAt + 20_000 - Date.now(),
		);
		const timeLocked = /^\[.* [0-9a-f-]{36}\] alice → bob \(time-locked: sent .*, unlocked .*\): (.*)$/gm;
		expect([...late.matchAll(timeLocked)].map((m) => m[1]).sort()).toEqual(['opens later', 'quiet surprise']);
		const after = await cli(bob, ['read']);
		expect(after.stdout).toContain('No new messages.');
		expect(after.stdout).not.toMatch(/^sealed:/m);
	});

	it("prints in the PWA order: the sender's closed lock apart, after the timeline; the recipient's after what came before it opened", async () => {
		const laptop = newHome();
		expect((await cli(laptop, ['login', 'bob'])).code).toBe(0);
		// The history so far is printed once: what follows is only what this test sends.
		expect((await cli(laptop, ['read'])).code).toBe(0);
		const unlockAt = Date.now() + 12_000;
		const locked = await cli(bob, [
			'send',
			'alice',
			'ordered lock',
			'--unlock',
			new Date(unlockAt).toISOString(),
		]);
		expect(locked.code, locked.stderr).toBe(0);
		expect((await cli(bob, ['send', 'alice', 'sent after the ordered lock'])).code).toBe(0);

		// bob's other device, before the unlock: the message in the timeline, the lock after it as sealed.
		const early = await cli(laptop, ['read']);
		expect(early.code, early.stderr).toBe(0);
		expect(Date.now(), 'the read must finish before the unlock for this test to mean anything').toBeLessThan(
			unlockAt,
		);
		const lines = early.stdout.split('\n');
		const message = lines.findIndex((l) => /^\[.*\] bob → alice: sent after the ordered lock$/.test(l));
		const sealed = lines.findIndex((l) =>
			/^sealed: \[.*\] bob → alice \(locked until .*\): ordered lock$/.test(l),
		);
		expect(message, early.stdout).toBeGreaterThanOrEqual(0);
		expect(sealed, early.stdout).toBeGreaterThan(message);

		// alice gets it once it opens, after the message that was sent before that.
		const late = await readUntil(alice, /\): ordered lock$/m, unlockAt + 20_000 - Date.now());
		expect(late.indexOf('): ordered lock')).toBeGreaterThan(late.indexOf('sent after the ordered lock'));
	});

	it('refuses bad input with exit code 2 and hub refusals with their code', async () => {
		const badDate = await cli(alice, ['send', 'bob', 'x', '--unlock', '31:02:2030:10:00:00']);
		expect(badDate.code).toBe(2);
		expect(badDate.stderr).toContain('--unlock');

		const past = await cli(alice, ['send', 'bob', 'x', '--unlock', '2001-01-01T00:00:00Z']);
		expect(past.code).toBe(1);
		expect(past.stderr).toContain('UNLOCK_IN_PAST');

		const nobody = await cli(alice, ['send', 'nobody-here', 'x']);
		expect(nobody.code).toBe(1);
		expect(nobody.stderr).toMatch(/hourglass: (NOT_FOUND|UNKNOWN_RECIPIENT):/);

		const wrong = await cli(alice, ['read'], { HOURGLASS_PASSWORD: 'not the password at all' });
		expect(wrong.code).toBe(1);
		expect(wrong.stderr).toContain('INVALID_CREDENTIALS');

		const stranger = await cli(newHome(), ['read']);
		expect(stranger.code).toBe(2);
		expect(stranger.stderr).toContain('NO_LOCAL_ACCOUNT');

		const noPassword = await cli(alice, ['read'], { HOURGLASS_PASSWORD: '' });
		expect(noPassword.code).toBe(2);
		expect(noPassword.stderr).toContain('no password');
	});

	it("prints a quota refusal's code and exits 1", async () => {
		const small = await startTestHub({ name: 'cli_quota', env: { QUOTA_UNDELIVERED_PER_RECIPIENT: '1' } });
		try {
			const server = { HOURGLASS_SERVER: small.url };
			const [carol, dave] = [newHome(), newHome()];
			const registered = await Promise.all([
				cli(carol, ['register', 'carol'], server),
				cli(dave, ['register', 'dave'], server),
			]);
			for (const r of registered) expect(r.code, r.stderr).toBe(0);
			const first = await cli(carol, ['send', 'dave', 'waits for dave'], server);
			expect(first.code, first.stderr).toBe(0);
			const second = await cli(carol, ['send', 'dave', 'one too many'], server);
			expect(second.code).toBe(1);
			expect(second.stderr).toMatch(/^hourglass: QUOTA_UNDELIVERED: /m);
		} finally {
			await small.stop();
		}
	});

	it('keeps its device token through a sign-out and gets in while strangers are locked out; a new device is told how long to wait', async () => {
		const locking = await startTestHub({
			name: 'cli_lockout',
			env: { TRUST_PROXY: '127.0.0.1', LOCKOUT_ACCOUNT_FAILURES: '3', LOCKOUT_BASE_SECONDS: '60' },
		});
		try {
			const server = { HOURGLASS_SERVER: locking.url };
			const laptop = newHome();
			expect((await cli(laptop, ['register', 'erin'], server)).code).toBe(0);
			const out = await cli(laptop, ['logout'], server);
			expect(out.code, out.stderr).toBe(0);
			// A stranger guesses from three addresses: the account is locked for unknown devices.
			for (const address of ['198.18.1.1', '198.18.1.2', '198.18.1.3']) {
				const guess = new HubApi({ baseUrl: locking.url, fetch: fetchFrom(address) });
				await expect(
					guess.login({ username: 'erin', authKey: randomBytes(32).toString('base64url') }),
				).rejects.toMatchObject({
					code: 'INVALID_CREDENTIALS',
				});
			}
			const newPhone = await cli(newHome(), ['login', 'erin'], server);
			expect(newPhone.code).toBe(1);
			expect(newPhone.stderr).toMatch(
				/^hourglass: LOCKED_OUT: Too many failed sign-ins: .* Try again in (1 minute|\d+ seconds) \(at .+\)\. A device that signed in to this account before is not locked out\.$/m,
			);
			// The laptop signed out, but it is still the device that made the account.
			const back = await cli(laptop, ['login', 'erin'], server);
			expect(back.code, back.stderr).toBe(0);
			expect(back.stdout).toContain('Signed in as erin');
		} finally {
			await locking.stop();
		}
	});

	it('turns two-factor authentication on from a printed QR code, signs in with --code or a typed code, and turns it off', async () => {
		const step = 30_000;
		let clock = Math.floor(Date.now() / step) * step + 5_000;
		const totpHub = await startTestHub({ name: 'cli_totp', now: () => clock });
		try {
			const server = { HOURGLASS_SERVER: totpHub.url };
			const code = (secret: string) => generate({ secret, epoch: Math.floor(clock / 1000) });
			const home = newHome();
			expect((await cli(home, ['register', 'gwen'], server)).code).toBe(0);

			let secret = '';
			const enabled = await cli(home, ['2fa', 'enable'], server, (stdout) => {
				const match = /^Secret: ([A-Z2-7]+)$/m.exec(stdout);
				if (!match) return null;
				secret = match[1];
				return generateSync({ secret, epoch: Math.floor(clock / 1000) });
			});
			expect(enabled.code, enabled.stderr).toBe(0);
			expect(enabled.stdout).toMatch(/^URI: otpauth:\/\/totp\/Hourglass:gwen\?/m);
			expect(enabled.stdout).toMatch(/[█▀▄]{10}/);
			expect(enabled.stdout).toContain('Two-factor authentication is on for gwen');
			const recovery = enabled.stdout.match(/^ {2}[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/gm) ?? [];
			expect(recovery).toHaveLength(10);

			const device = newHome();
			const noCode = await cli(device, ['login', 'gwen'], server);
			expect(noCode.code).toBe(2);
			expect(noCode.stderr).toContain('no code');

			clock += step;
			const now = await code(secret);
			const withCode = await cli(device, ['login', 'gwen', '--code', now], server);
			expect(withCode.code, withCode.stderr).toBe(0);
			expect(withCode.stdout).toContain('Signed in as gwen');
			const reused = await cli(newHome(), ['login', 'gwen', '--code', now], server);
			expect(reused.code).toBe(1);
			expect(reused.stderr).toMatch(/^hourglass: INVALID_TOTP: /m);

			const typed = await cli(newHome(), ['login', 'gwen'], server, () => (recovery[0] ?? '').trim());
			expect(typed.code, typed.stderr).toBe(0);

			clock += step;
			const off = await cli(device, ['2fa', 'disable', '--code', await code(secret)], server);
			expect(off.code, off.stderr).toBe(0);
			expect(off.stdout).toContain('Two-factor authentication is off for gwen');
			expect((await cli(newHome(), ['login', 'gwen'], server)).code).toBe(0);
		} finally {
			await totpHub.stop();
		}
	});

	it('lists, accepts, blocks and unblocks message requests and contacts', async () => {
		const carol = newHome();
		expect((await cli(carol, ['register', 'carol'])).code).toBe(0);
		expect((await cli(carol, ['send', 'alice', 'hi alice, carol here'])).code).toBe(0);

		const asked = await cli(alice, ['requests']);
		expect(asked.code, asked.stderr).toBe(0);
		expect(asked.stdout).toMatch(/^carol \(1 message\): \[.*\] carol → alice: hi alice, carol here$/m);
		// Bob is alice's contact since she wrote to him, so his replies are no request.
		expect(asked.stdout).not.toMatch(/^bob /m);

		const accepted = await cli(alice, ['accept', 'carol']);
		expect(accepted.code, accepted.stderr).toBe(0);
		expect(accepted.stdout).toContain("Accepted carol's message request");
		expect((await cli(alice, ['requests'])).stdout).toContain('No message requests.');
		const listed = await cli(alice, ['contacts']);
		expect(listed.stdout).toMatch(/^bob +contact since \d{4}-/m);
		expect(listed.stdout).toMatch(/^carol +contact since \d{4}-/m);

		const blocked = await cli(alice, ['block', 'carol']);
		expect(blocked.code, blocked.stderr).toBe(0);
		expect((await cli(alice, ['contacts'])).stdout).toMatch(/^carol +blocked since/m);
		// Carol sees an ordinary send; nothing reaches alice.
		const unseen = await cli(carol, ['send', 'alice', 'you will not see this']);
		expect(unseen.code, unseen.stderr).toBe(0);
		expect(unseen.stdout).toMatch(/^Sent [0-9a-f-]{36} to alice\.$/m);
		expect((await cli(alice, ['read'])).stdout).not.toContain('you will not see this');

		expect((await cli(alice, ['unblock', 'carol'])).stdout).toContain('Unblocked carol.');
		const again = await cli(carol, ['send', 'alice', 'hello again']);
		expect(again.code, again.stderr).toBe(0);
		const declined = await cli(alice, ['decline', 'carol']);
		expect(declined.code, declined.stderr).toBe(0);
		// Her first message, kept through the block (she was a contact then), and the one after the unblock.
		expect(declined.stdout).toContain('The hub deleted 2 of their messages.');

		const removed = await cli(alice, ['contacts', 'remove', 'bob']);
		expect(removed.stdout).toContain('Removed bob from your contacts.');
		expect((await cli(alice, ['contacts', 'add', 'bob'])).stdout).toContain('Added bob to your contacts.');

		expect((await cli(alice, ['block', 'nobody-here'])).stderr).toMatch(/^hourglass: NOT_FOUND: /m);
		expect((await cli(alice, ['accept'])).code).toBe(2);
		expect((await cli(alice, ['contacts', 'befriend', 'bob'])).code).toBe(2);
		expect((await cli(alice, ['contacts', 'add', 'https://x/add#u=bob&fp=12'])).code).toBe(2);
	});

	it('prints a contact card that adds its owner with the fingerprint checked, and refuses a tampered one', async () => {
		const shown = await cli(bob, ['card', '--qr']);
		expect(shown.code, shown.stderr).toBe(0);
		const link = shown.stdout.match(/^(http\S+\/add#u=bob&fp=(\d{30}))$/m);
		expect(link, shown.stdout).not.toBeNull();
		// The QR code is drawn with block characters after the link.
		expect(shown.stdout).toMatch(/[▀▄█]/);

		const digits = link![2];
		const tampered = link![1].replace(/\d$/, (d) => String((Number(d) + 1) % 10));
		const dave = newHome();
		expect((await cli(dave, ['register', 'dave'])).code).toBe(0);
		const refused = await cli(dave, ['contacts', 'add', tampered]);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toMatch(/^hourglass: FINGERPRINT_MISMATCH: /m);
		expect((await cli(dave, ['contacts'])).stdout).toContain('No contacts yet.');

		const added = await cli(dave, ['contacts', 'add', link![1]]);
		expect(added.code, added.stderr).toBe(0);
		expect(added.stdout).toContain("Added bob to your contacts; their keys match the card's fingerprint.");
		expect(digits).toHaveLength(30);
		expect((await cli(dave, ['contacts'])).stdout).toMatch(/^bob +contact since/m);
	});

	it('logs out, and signs in again by itself on the next command', async () => {
		const out = await cli(alice, ['logout']);
		expect(out.code, out.stderr).toBe(0);
		expect(out.stdout).toContain('Signed out alice');
		const sent = await cli(alice, ['send', 'bob', 'after logout']);
		expect(sent.code, sent.stderr).toBe(0);
	});

	it('prints ids that delete takes: for me on this account only, for everyone on both sides', async () => {
		const sent = await cli(alice, ['send', 'bob', 'take me back']);
		expect(sent.code, sent.stderr).toBe(0);
		const id = /^Sent ([0-9a-f-]{36}) to bob\.$/m.exec(sent.stdout)?.[1] ?? '';
		const read = await cli(bob, ['read']);
		expect(read.stdout).toContain(` ${id}] alice → bob: take me back`);

		// Only the sender, and only with --everyone, reaches the other side.
		const refused = await cli(bob, ['delete', id, '--everyone']);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toContain('FORBIDDEN');
		const mine = await cli(bob, ['delete', id]);
		expect(mine.code, mine.stderr).toBe(0);
		expect(mine.stdout).toMatch(
			new RegExp(`^Deleted ${id} on your devices; [0-9a-f-]{36} told them\\.$`, 'm'),
		);

		const everyone = await cli(alice, ['delete', id, '--everyone']);
		expect(everyone.code, everyone.stderr).toBe(0);
		expect(everyone.stdout).toContain(`Deleted ${id} for everyone.`);
		const after = await cli(bob, ['read']);
		expect(after.code, after.stderr).toBe(0);
		expect(after.stdout).toMatch(new RegExp(`\\] ${id} deleted by alice$`, 'm'));
		expect(after.stdout).not.toContain('take me back');

		for (const args of [['delete', 'not-an-id'], ['delete'], ['delete', id, '--yes']]) {
			const bad = await cli(alice, args);
			expect(bad.code).toBe(2);
		}
	});

	it('sets a disappearing timer that both sides see and later messages carry', async () => {
		const set = await cli(alice, ['disappear', 'bob', '1h']);
		expect(set.code, set.stderr).toBe(0);
		expect(set.stdout).toMatch(/^Disappearing messages with bob: 1h 0m after reading \([0-9a-f-]{36}\)\.$/m);
		const sent = await cli(alice, ['send', 'bob', 'this one fades']);
		expect(sent.code, sent.stderr).toBe(0);
		const read = await cli(bob, ['read']);
		expect(read.code, read.stderr).toBe(0);
		expect(read.stdout).toMatch(/\] alice set disappearing messages to 1h 0m \(with bob\)$/m);
		expect(read.stdout).toMatch(
			/ [0-9a-f-]{36}\] alice → bob \(disappears 1h 0m after reading\): this one fades$/m,
		);

		// Bob's reply carries the timer too: his device learned it from the read.
		const reply = await cli(bob, ['send', 'alice', 'me too']);
		expect(reply.code, reply.stderr).toBe(0);
		const back = await cli(alice, ['read']);
		expect(back.stdout).toMatch(/bob → alice \(disappears 1h 0m after reading\): me too$/m);

		const off = await cli(bob, ['disappear', 'alice', 'off']);
		expect(off.code, off.stderr).toBe(0);
		expect(off.stdout).toContain('Disappearing messages with alice are off');
		for (const args of [
			['disappear', 'bob', '2h'],
			['disappear', 'bob'],
		]) {
			expect((await cli(alice, args)).code).toBe(2);
		}
	});

	it('sends a file that the recipient saves with read --save-dir, never over a file already there', async () => {
		const folder = newHome();
		const original = randomBytes(300_000);
		writeFileSync(join(folder, 'report.pdf'), original);
		const sent = await cli(alice, ['send-file', 'bob', join(folder, 'report.pdf')]);
		expect(sent.code, sent.stderr).toBe(0);
		expect(sent.stdout).toMatch(/^Sent [0-9a-f-]{36} to bob: report\.pdf \(293\.0 KiB, file [\w-]{22}\)\.$/m);
		expect(sent.stderr).toMatch(/report\.pdf: 100% \(/);

		const saveDir = newHome();
		writeFileSync(join(saveDir, 'report.pdf'), 'already here');
		const read = await cli(bob, ['read', '--save-dir', saveDir]);
		expect(read.code, read.stderr).toBe(0);
		expect(read.stdout).toMatch(/\] alice → bob: \[file\] report\.pdf \(293\.0 KiB, application\/pdf\)$/m);
		const saved = join(saveDir, 'report (1).pdf');
		expect(read.stdout).toContain(`saved ${saved}`);
		expect(readFileSync(saved).equals(original)).toBe(true);
		expect(readFileSync(join(saveDir, 'report.pdf'), 'utf8')).toBe('already here');
		// No temporary file is left behind.
		expect(readdirSync(saveDir).sort()).toEqual(['report (1).pdf', 'report.pdf']);
	});

	describe('a save that was interrupted resumes on the next read --save-dir', () => {
		// 8 MiB in the default 256 KiB chunks, through a hop that gives 1 MiB/s of the hub's replies.
		const SIZE = 8 * 1024 * 1024;
		const layout = fileLayout(SIZE, 256 * 1024);
		let proxy: ThrottledProxy;
		let kate: string;
		let liam: string;
		let viaProxy: Record<string, string>;

		beforeAll(async () => {
			proxy = await startThrottledProxy(hub.url, 1024 * 1024);
			viaProxy = { HOURGLASS_SERVER: proxy.url };
			[kate, liam] = [newHome(), newHome()];
			const registered = await Promise.all([
				cli(kate, ['register', 'kate']),
				cli(liam, ['register', 'liam'], viaProxy),
			]);
			for (const r of registered) expect(r.code, r.stderr).toBe(0);
			expect((await cli(liam, ['contacts', 'add', 'kate'], viaProxy)).code).toBe(0);
		});

		afterAll(async () => {
			await proxy?.close();
		});

		/** kate sends `name` (random bytes) to liam: its bytes, file id and message id. */
		async function sendToLiam(name: string, size = SIZE) {
			const folder = newHome();
			const bytes = randomBytes(size);
			writeFileSync(join(folder, name), bytes);
			const sent = await cli(kate, ['send-file', 'liam', join(folder, name)]);
			expect(sent.code, sent.stderr).toBe(0);
			const [, id, fileId] = /^Sent ([0-9a-f-]{36}) to liam: .*, file ([\w-]{22})\)\.$/m.exec(sent.stdout)!;
			return { bytes, id, fileId };
		}

		/** The chunks the hub was asked for the file from, one per content request the proxy forwarded. */
		const fetchedFrom = (fileId: string) =>
			proxy.requests.flatMap((line) => {
				const match = new RegExp(`^GET /api/files/${fileId}/content(?:\\?from=(\\d+))? `).exec(line);
				return match ? [Number(match[1] ?? 0)] : [];
			});

		/** Whole ciphertext chunks in the first `bytes` of a kept file. */
		function wholeChunks(bytes: number, chunks = layout): number {
			let n = 0;
			for (let at = 0; n < chunks.chunkCount && at + chunks.chunkBytes(n) <= bytes; n++)
				at += chunks.chunkBytes(n);
			return n;
		}

		const hidden = (dir: string, ending: string) =>
			readdirSync(dir).filter((name) => name.startsWith('.hourglass-') && name.endsWith(ending));

		/** `read --save-dir dir` through the proxy, SIGKILLed once its progress line passed `percent`. */
		function readKilledAt(dir: string, name: string, percent: number): Promise<Run> {
			let shown = 0;
			return cli(liam, ['read', '--save-dir', dir], viaProxy, undefined, (stream, text, child) => {
				if (stream !== 'stderr') return;
				for (const match of text.matchAll(new RegExp(`${name}: (\\d+)% `, 'g'))) shown = Number(match[1]);
				if (shown >= percent && child.exitCode === null && !child.killed) child.kill('SIGKILL');
			});
		}

		it('after a SIGKILL: the next read keeps what was kept and asks the hub only for the rest', async () => {
			const { bytes, id, fileId } = await sendToLiam('big.bin');
			const dir = newHome();
			const killed = await readKilledAt(dir, 'big\\.bin', 25);
			expect(killed.code, killed.stderr).toBeNull();
			expect(killed.stdout).toContain(` ${id}] kate → liam: [file] big.bin (8.0 MiB`);
			// No file under its name; the ciphertext kept, and the plaintext the kill left half-written.
			expect(readdirSync(dir).filter((name) => !name.startsWith('.'))).toEqual([]);
			const [kept] = hidden(dir, '.kept');
			expect(hidden(dir, '.kept')).toHaveLength(1);
			expect(hidden(dir, '.part')).toHaveLength(1);
			const keptChunks = wholeChunks(statSync(join(dir, kept)).size);
			expect(keptChunks).toBeGreaterThanOrEqual(layout.chunkCount / 4);
			expect(keptChunks).toBeLessThan(layout.chunkCount);
			expect(fetchedFrom(fileId)).toEqual([0]);

			// The kill came before the messages were marked read: the same message again, resumed.
			const again = await cli(liam, ['read', '--save-dir', dir], viaProxy);
			expect(again.code, again.stderr).toBe(0);
			expect(again.stdout).toContain(` ${id}] kate → liam: [file] big.bin`);
			expect(again.stdout).toContain(`saved ${join(dir, 'big.bin')}`);
			expect(readFileSync(join(dir, 'big.bin')).equals(bytes)).toBe(true);
			expect(readdirSync(dir)).toEqual(['big.bin']);
			expect(fetchedFrom(fileId)).toEqual([0, keptChunks]);
		});

		it('refuses a kept file altered on disk and removes both files; drops a paused download whose message was deleted', async () => {
			const size = 2 * 1024 * 1024;
			const small = fileLayout(size, 256 * 1024);
			const altered = await sendToLiam('altered.bin', size);
			const dir = newHome();
			expect((await readKilledAt(dir, 'altered\\.bin', 25)).code).toBeNull();
			const [kept] = hidden(dir, '.kept');
			const keptPath = join(dir, kept);
			expect(wholeChunks(statSync(keptPath).size, small)).toBeGreaterThanOrEqual(2);
			const ciphertext = readFileSync(keptPath);
			ciphertext[small.chunkBytes(0) + 100] ^= 0x01;
			writeFileSync(keptPath, ciphertext);

			const refused = await cli(liam, ['read', '--save-dir', dir], viaProxy);
			expect(refused.code, refused.stderr).toBe(0);
			expect(refused.stdout).toMatch(/^ {2}not saved: /m);
			expect(refused.stdout).not.toContain('saved /');
			expect(readdirSync(dir)).toEqual([]);
			// Refused while opening what was kept, before asking the hub for more.
			expect(fetchedFrom(altered.fileId)).toEqual([0]);
			const after = await cli(liam, ['read', '--save-dir', dir], viaProxy);
			expect(after.stdout).not.toMatch(/resuming|paused/);

			const deleted = await sendToLiam('deleted.bin', size);
			const other = newHome();
			expect((await readKilledAt(other, 'deleted\\.bin', 25)).code).toBeNull();
			expect(hidden(other, '.kept')).toHaveLength(1);
			expect((await cli(kate, ['delete', deleted.id, '--everyone'])).code).toBe(0);
			const dropped = await cli(liam, ['read'], viaProxy);
			expect(dropped.code, dropped.stderr).toBe(0);
			expect(dropped.stdout).toContain(
				`dropped the paused download of deleted.bin from kate (${deleted.id}): its message was deleted`,
			);
			expect(readdirSync(other)).toEqual([]);
			expect(fetchedFrom(deleted.fileId)).toEqual([0]);
		});

		it('after the hub was out of reach past the retries: paused with no plaintext, resumed by a later read', async () => {
			const { bytes, id, fileId } = await sendToLiam('cut.bin');
			const dir = newHome();
			let cut = false;
			let shown = 0;
			const paused = await cli(liam, ['read', '--save-dir', dir], viaProxy, undefined, (stream, text) => {
				if (stream === 'stderr') {
					for (const match of text.matchAll(/cut\.bin: (\d+)% /g)) shown = Number(match[1]);
					if (shown >= 25 && !cut) {
						cut = true;
						proxy.cut();
					}
				} else if (/^ {2}paused cut\.bin/m.test(text)) {
					// Back for the rest of the read (its receipts); the download gave up already.
					proxy.restore();
				}
			});
			expect(paused.code, paused.stderr).toBe(0);
			const line =
				/^ {2}paused cut\.bin at (\d+)% \("hourglass read --save-dir (.+)" resumes it\): (.+)$/m.exec(
					paused.stdout,
				);
			expect(line, paused.stdout).not.toBeNull();
			expect(line![2]).toBe(dir);
			expect(line![3]).toContain('The hub cannot be reached');
			// The progress line it stopped on was ended: what comes next starts on a line of its own.
			expect(paused.stderr).toMatch(/cut\.bin: \d+% \([^)]*\)\n$/);
			// Only the ciphertext stays, whole chunks of it: no plaintext, in part or whole.
			expect(readdirSync(dir)).toEqual(hidden(dir, '.kept'));
			expect(readdirSync(dir)).toHaveLength(1);
			const keptBytes = statSync(join(dir, hidden(dir, '.kept')[0])).size;
			const keptChunks = wholeChunks(keptBytes);
			expect(keptChunks).toBeGreaterThanOrEqual(layout.chunkCount / 4);
			expect(keptBytes).toBe(
				Array.from({ length: keptChunks }, (_, n) => layout.chunkBytes(n)).reduce((a, b) => a + b),
			);
			expect(Number(line![1])).toBe(Math.floor((keptBytes / layout.ciphertextBytes) * 100));
			// The retries while it was cut never reached the hub.
			expect(fetchedFrom(fileId)).toEqual([0]);

			const hint = await cli(liam, ['read'], viaProxy);
			expect(hint.stdout).toContain('1 download is paused: "hourglass read --save-dir <dir>" resumes it');
			expect(hint.stdout).toContain('No new messages.');
			const otherPeer = await cli(liam, ['read', '--peer', 'alice', '--save-dir', dir], viaProxy);
			expect(otherPeer.stdout).not.toContain('resuming');
			expect(readdirSync(dir)).toHaveLength(1);

			const resumed = await cli(liam, ['read', '--save-dir', dir], viaProxy);
			expect(resumed.code, resumed.stderr).toBe(0);
			expect(resumed.stdout).toContain(`resuming cut.bin from kate (${id})`);
			expect(resumed.stdout).toContain(`saved ${join(dir, 'cut.bin')}`);
			expect(resumed.stdout).not.toContain('kate → liam');
			expect(readFileSync(join(dir, 'cut.bin')).equals(bytes)).toBe(true);
			expect(readdirSync(dir)).toEqual(['cut.bin']);
			expect(fetchedFrom(fileId)).toEqual([0, keptChunks]);

			const done = await cli(liam, ['read', '--save-dir', dir], viaProxy);
			expect(done.stdout).not.toMatch(/resuming|paused/);
		});
	});

	// Last: the sealed file stays sealed for bob, and the other tests count his sealed notices.
	it('lists a time-locked file as sealed and saves nothing of it before the unlock', async () => {
		const folder = newHome();
		writeFileSync(join(folder, 'later.txt'), 'not yet');
		const unlock = new Date(Date.now() + 3_600_000).toISOString();
		const sent = await cli(alice, [
			'send-file',
			'bob',
			join(folder, 'later.txt'),
			'--unlock',
			unlock,
			'--announce',
		]);
		expect(sent.code, sent.stderr).toBe(0);
		expect(sent.stdout).toMatch(
			/^Locked [0-9a-f-]{36} for bob until .*: later\.txt \(7 B, file [\w-]{22}\); bob sees a sealed message\.$/m,
		);

		const saveDir = newHome();
		const read = await cli(bob, ['read', '--save-dir', saveDir]);
		expect(read.code, read.stderr).toBe(0);
		expect(read.stdout).toMatch(/^sealed: alice → bob, unlocks /m);
		expect(read.stdout).not.toContain('later.txt');
		expect(readdirSync(saveDir)).toEqual([]);
	});

	it('refuses send-file without a readable file', async () => {
		const missing = await cli(alice, ['send-file', 'bob', join(newHome(), 'nothing.bin')]);
		expect(missing.code).toBe(2);
		expect(missing.stderr).toMatch(/send-file: cannot read/);
	});

	it('runs its bundle while no file it was built from changed since, and the sources through tsx otherwise', async () => {
		// A checkout of its own: the real bin, a bundle and a source that each say which one ran.
		const root = newHome();
		const source = join(root, 'cli/main.ts');
		mkdirSync(join(root, 'bin'));
		mkdirSync(join(root, 'cli'));
		mkdirSync(join(root, 'dist/cli'), { recursive: true });
		copyFileSync(join(ROOT, 'bin/hourglass.js'), join(root, 'bin/hourglass.js'));
		symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
		writeFileSync(source, "const from: string = 'sources';\nprocess.stdout.write(`${from}\\n`);\n");
		const past = new Date(Date.now() - 60_000);
		utimesSync(source, past, past);
		writeFileSync(join(root, 'dist/cli/hourglass.mjs'), "process.stdout.write('bundle\\n');\n");
		writeFileSync(join(root, 'dist/cli/inputs.json'), JSON.stringify(['cli/main.ts']));
		const bin = [join(root, 'bin/hourglass.js')];

		expect(await run(bin, root, [])).toMatchObject({ code: 0, stdout: 'bundle\n' });
		utimesSync(source, new Date(), new Date());
		expect(await run(bin, root, [])).toMatchObject({ code: 0, stdout: 'sources\n' });
		rmSync(join(root, 'dist'), { recursive: true });
		expect(await run(bin, root, [])).toMatchObject({ code: 0, stdout: 'sources\n' });
	});
});
