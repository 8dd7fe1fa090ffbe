import { describe, expect, it } from 'vitest';
import { LIMITS } from '../src/lib/protocol';
import { DEFAULT_SERVER, UsageError, parseCommandLine } from './args';

const parse = (line: string[], env: Record<string, string> = {}) => parseCommandLine(line, env);

describe('parseCommandLine', () => {
	it('shows the help without a command, with help, or with -h', () => {
		expect(parse([]).command).toEqual({ name: 'help' });
		expect(parse(['help']).command).toEqual({ name: 'help' });
		expect(parse(['send', '-h']).command).toEqual({ name: 'help' });
	});

	it('defaults the server to the local hub, then $HOURGLASS_SERVER, then --server', () => {
		expect(parse(['read']).server).toBe(DEFAULT_SERVER);
		expect(parse(['read'], { HOURGLASS_SERVER: 'https://hub.example' }).server).toBe('https://hub.example');
		expect(
			parse(['read', '--server', 'http://127.0.0.1:4000/'], { HOURGLASS_SERVER: 'https://x.example' }).server,
		).toBe('http://127.0.0.1:4000');
		expect(parse(['--server=http://localhost:5000', 'read']).server).toBe('http://localhost:5000');
	});

	it('reads the contacts commands, a card link checked for its shape, and refuses the rest', () => {
		const fp = '0'.repeat(30);
		expect(parse(['contacts']).command).toEqual({ name: 'contacts', action: { kind: 'list' } });
		expect(parse(['contacts', 'add', 'Bob']).command).toEqual({
			name: 'contacts',
			action: { kind: 'add', peer: 'bob' },
		});
		expect(parse(['contacts', 'add', `https://hub.example/add#u=bob&fp=${fp}`]).command).toEqual({
			name: 'contacts',
			action: { kind: 'add-card', card: { username: 'bob', fingerprint: fp } },
		});
		expect(parse(['contacts', 'remove', 'bob']).command).toEqual({
			name: 'contacts',
			action: { kind: 'remove', peer: 'bob' },
		});
		expect(parse(['requests']).command).toEqual({ name: 'requests' });
		for (const name of ['accept', 'decline', 'block', 'unblock'] as const) {
			expect(parse([name, 'Carol']).command).toEqual({ name, peer: 'carol' });
			expect(() => parse([name])).toThrow(UsageError);
		}
		expect(parse(['card']).command).toEqual({ name: 'card', qr: false });
		expect(parse(['card', '--qr']).command).toEqual({ name: 'card', qr: true });
		expect(() => parse(['contacts', 'add'])).toThrow(UsageError);
		expect(() => parse(['contacts', 'befriend', 'bob'])).toThrow(UsageError);
		expect(() => parse(['contacts', 'add', 'bob', 'carol'])).toThrow(UsageError);
		expect(() => parse(['contacts', 'add', 'https://hub.example/add#u=bob&fp=123'])).toThrow(/contact card/);
		expect(() => parse(['contacts', 'remove', 'x'])).toThrow(UsageError);
		expect(() => parse(['send', 'bob', 'hi', '--qr'])).toThrow(/--qr does not apply/);
	});

	it('normalises usernames to lower case', () => {
		expect(parse(['register', 'Alice']).command).toEqual({ name: 'register', username: 'alice' });
		expect(parse(['login', 'BOB.smith', '--trust']).command).toEqual({
			name: 'login',
			username: 'bob.smith',
			trust: true,
			code: null,
		});
		expect(parse(['--user', 'Carol', 'read']).user).toBe('carol');
		expect(parse(['read']).user).toBeNull();
	});

	it('reads the two-factor commands and --code, and refuses a code that is neither kind', () => {
		expect(parse(['login', 'bob', '--code', '123 456']).command).toEqual({
			name: 'login',
			username: 'bob',
			trust: false,
			code: '123456',
		});
		expect(parse(['2fa', 'enable']).command).toEqual({ name: '2fa', action: 'enable', code: null });
		expect(parse(['2fa', 'disable', '--code', 'abcd-efgh-ijkl-mnop']).command).toEqual({
			name: '2fa',
			action: 'disable',
			code: 'ABCDEFGHIJKLMNOP',
		});
		expect(() => parse(['login', 'bob', '--code', '12345'])).toThrow(UsageError);
		expect(() => parse(['2fa', 'enable', '--code', '123456'])).toThrow(UsageError);
		expect(() => parse(['2fa', 'off'])).toThrow(UsageError);
		expect(() => parse(['read', '--code', '123456'])).toThrow(UsageError);
	});

	it('reads a plain send', () => {
		expect(parse(['send', 'Bob', 'hello there']).command).toEqual({
			name: 'send',
			to: 'bob',
			text: 'hello there',
			unlockAt: null,
			announce: false,
		});
	});

	it('reads a time-locked, announced send with options in any place', () => {
		expect(
			parse(['--announce', 'send', 'bob', '--unlock', '2030-01-31T09:00:00Z', 'see you']).command,
		).toEqual({
			name: 'send',
			to: 'bob',
			text: 'see you',
			unlockAt: Date.UTC(2030, 0, 31, 9),
			announce: true,
		});
	});

	it('takes text that starts with a dash after --', () => {
		expect(parse(['send', 'bob', '--', '-- not an option']).command).toMatchObject({
			text: '-- not an option',
		});
	});

	it('reads safety with and without --accept and --qr', () => {
		expect(parse(['safety', 'Bob']).command).toEqual({
			name: 'safety',
			peer: 'bob',
			accept: false,
			qr: false,
		});
		expect(parse(['safety', 'bob', '--accept']).command).toEqual({
			name: 'safety',
			peer: 'bob',
			accept: true,
			qr: false,
		});
		expect(parse(['safety', 'bob', '--qr']).command).toMatchObject({ qr: true });
	});

	it('reads verify with the digits in one argument or in twelve groups, and unverify', () => {
		const digits = '1234567890'.repeat(6);
		const groups = digits.match(/.{5}/g)!;
		expect(parse(['verify', 'Bob', digits]).command).toEqual({ name: 'verify', peer: 'bob', code: digits });
		expect(parse(['verify', 'bob', ...groups]).command).toEqual({
			name: 'verify',
			peer: 'bob',
			code: groups.join(' '),
		});
		const code = `hourglass-safety:1:bob:alice:${digits}`;
		expect(parse(['verify', 'bob', code]).command).toMatchObject({ code });
		expect(parse(['unverify', 'Bob']).command).toEqual({ name: 'unverify', peer: 'bob' });
	});

	it('reads account delete only with --yes, and its --code', () => {
		expect(parse(['account', 'delete', '--yes']).command).toEqual({
			name: 'account',
			action: 'delete',
			code: null,
		});
		expect(parse(['account', 'delete', '--yes', '--code', '123456']).command).toEqual({
			name: 'account',
			action: 'delete',
			code: '123456',
		});
		expect(() => parse(['account', 'delete'])).toThrow(/--yes/);
		expect(() => parse(['account'])).toThrow(UsageError);
		expect(() => parse(['account', 'remove', '--yes'])).toThrow(UsageError);
		expect(() => parse(['read', '--yes'])).toThrow(UsageError);
	});

	it('reads read with and without --peer', () => {
		expect(parse(['read']).command).toEqual({ name: 'read', peer: null, saveDir: null });
		expect(parse(['read', '--peer', 'Bob']).command).toEqual({ name: 'read', peer: 'bob', saveDir: null });
		expect(() => parse(['read', '--peer', 'no way'])).toThrow(/not a username/);
		expect(() => parse(['send', 'bob', 'hi', '--peer', 'bob'])).toThrow(/does not apply/);
	});

	it('reads receipts on and off, and nothing else', () => {
		expect(parse(['receipts', 'on']).command).toEqual({ name: 'receipts', on: true });
		expect(parse(['receipts', 'off']).command).toEqual({ name: 'receipts', on: false });
		expect(() => parse(['receipts'])).toThrow(/receipts on\|off/);
		expect(() => parse(['receipts', 'yes'])).toThrow(/receipts on\|off/);
		expect(() => parse(['receipts', 'on', '--yes'])).toThrow(/does not apply/);
	});

	it('reads password with and without --keep-sessions', () => {
		expect(parse(['password']).command).toEqual({ name: 'password', keepSessions: false });
		expect(parse(['password', '--keep-sessions']).command).toEqual({ name: 'password', keepSessions: true });
		expect(() => parse(['logout', '--keep-sessions'])).toThrow(/does not apply/);
	});

	it('reads logout with and without --forget', () => {
		expect(parse(['logout']).command).toEqual({ name: 'logout', forget: false });
		expect(parse(['logout', '--forget']).command).toEqual({ name: 'logout', forget: true });
	});

	it.each([
		[['dance'], /unknown command "dance"/],
		[['register'], /usage: hourglass register <username>/],
		[['register', 'a'], /not a username/],
		[['register', 'al ice'], /not a username/],
		[['login', 'alice', 'extra'], /usage: hourglass login <username>/],
		[['send', 'bob'], /usage: hourglass send <user> <text>/],
		[['send', 'bob', 'two', 'words'], /quote the text/],
		[['send', 'bob', '   '], /empty/],
		[['send', 'bob', 'x'.repeat(LIMITS.textMaxChars + 1)], /longer than/],
		[['send', 'bob', 'hi', '--unlock', 'next tuesday'], /--unlock: "next tuesday" is not a date/],
		[['send', 'bob', 'hi', '--unlock', '31:02:2030:10:00:00'], /no day 31/],
		[['send', 'bob', 'hi', '--unlock'], /argument missing/],
		[['send', 'bob', 'hi', '--announce'], /--announce only applies to a time-locked message/],
		[['read', '--unlock', '2030-01-01'], /--unlock does not apply to "read"/],
		[['register', 'alice', '--forget'], /--forget does not apply to "register"/],
		[['send', 'bob', 'hi', '--accept'], /--accept does not apply to "send"/],
		[['safety'], /usage: hourglass safety <user>/],
		[['verify', 'bob'], /usage: hourglass verify <user> <digits>/],
		[['verify', 'bob', '12345'], /does not have 60 digits/],
		[['verify', 'bob', 'x'.repeat(60)], /neither 60 digits/],
		[['verify', 'bob', '1'.repeat(59) + 'x'], /something else than digits/],
		[['verify', 'bob', `hourglass-safety:2:bob:alice:${'1'.repeat(60)}`], /of a version/],
		[['verify', 'bob', '1'.repeat(60), '--qr'], /--qr does not apply to "verify"/],
		[['unverify'], /usage: hourglass unverify <user>/],
		[['read', '--colour'], /Unknown option '--colour'/],
		[['read', '--server', 'localhost:3000'], /must start with http/],
		[['read', '--server', 'not a url'], /is not a URL/],
		[['read', '--server', 'http://127.0.0.1:3000/api'], /only the hub's origin/],
	])('refuses %j with a usage error', (line, message) => {
		expect(() => parse(line)).toThrow(UsageError);
		expect(() => parse(line)).toThrow(message);
	});

	it('reads sessions, sessions revoke <id> and sessions revoke --others', () => {
		expect(parse(['sessions']).command).toEqual({ name: 'sessions', revoke: null });
		expect(parse(['sessions', 'revoke', 'Ab3_-x9Qz0']).command).toEqual({
			name: 'sessions',
			revoke: { idPrefix: 'Ab3_-x9Qz0' },
		});
		expect(parse(['sessions', 'revoke', '--others']).command).toEqual({ name: 'sessions', revoke: 'others' });
		// Ids are base64url: one in 64 begins with a dash, and is still an id, not an option.
		for (const id of ['-k3Jx9_QzA0', '--Z9a_b3QxW1mN0pL2sT4uV6wX8yZ0aB1cD3eF5gH7', '-abcdE']) {
			expect(parse(['sessions', 'revoke', id]).command).toEqual({
				name: 'sessions',
				revoke: { idPrefix: id },
			});
		}
		expect(() => parse(['sessions', 'revoke', 'Ab3_-x9Qz0', '--other'])).toThrow(/Unknown option '--other'/);
		for (const line of [
			['sessions', 'revoke'],
			['sessions', 'revoke', 'abc'],
			['sessions', 'revoke', 'not/an/id!'],
			['sessions', 'revoke', 'Ab3_-x9Qz0', '--others'],
			['sessions', '--others'],
			['sessions', 'list'],
			['read', '--others'],
		]) {
			expect(() => parse(line), line.join(' ')).toThrow(UsageError);
		}
	});
	it('reads send-file and read --save-dir', () => {
		expect(parse(['send-file', 'Bob', './a b.pdf']).command).toEqual({
			name: 'send-file',
			to: 'bob',
			path: './a b.pdf',
			unlockAt: null,
			announce: false,
		});
		const locked = parse([
			'send-file',
			'bob',
			'x.bin',
			'--unlock',
			'2099-01-31T09:00Z',
			'--announce',
		]).command;
		expect(locked).toMatchObject({ name: 'send-file', unlockAt: Date.UTC(2099, 0, 31, 9), announce: true });
		expect(parse(['read', '--save-dir', '/tmp/in']).command).toEqual({
			name: 'read',
			peer: null,
			saveDir: '/tmp/in',
		});
		expect(parse(['read', '--peer', 'bob', '--save-dir', 'in']).command).toEqual({
			name: 'read',
			peer: 'bob',
			saveDir: 'in',
		});
		for (const line of [
			['send-file', 'bob'],
			['send-file', 'bob', 'x.bin', '--announce'],
			['send-file', 'bob', 'x.bin', '--save-dir', '/tmp'],
			['send', 'bob', 'hi', '--save-dir', '/tmp'],
			['read', '--save-dir', ''],
		]) {
			expect(() => parse(line), line.join(' ')).toThrow(UsageError);
		}
	});
});
