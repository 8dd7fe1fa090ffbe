import type { ActivityEvent } from '../protocol';

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * What an activity event says, in the words the PWA and the CLI both show. `time` formats the
 * lockout's end in the reader's way.
 */
export function describeActivity(event: ActivityEvent, time: (at: number) => string): string {
	switch (event.type) {
		case 'registered':
			return 'Account created';
		case 'sign-in':
			return event.newDevice ? 'Signed in from a new device' : 'Signed in';
		case 'sign-in-failed':
			return event.reason === 'code' ? 'Wrong two-factor code entered' : 'Wrong password entered';
		case 'password-changed': {
			const others = event.count ?? 0;
			return others > 0
				? `Password changed; ${plural(others, 'other device', 'other devices')} signed out`
				: 'Password changed';
		}
		case '2fa-enabled':
			return 'Two-factor authentication turned on';
		case '2fa-disabled':
			return 'Two-factor authentication turned off';
		case 'recovery-code-used':
			return 'Recovery code used';
		case 'sessions-revoked':
			return `${plural(event.count ?? 0, 'device', 'devices')} signed out`;
		case 'lockout':
			return event.until === undefined
				? 'Sign-ins from unknown devices locked after failed attempts'
				: `Sign-ins from unknown devices locked until ${time(event.until)} after failed attempts`;
	}
}

/** Events a user should look at twice: someone may be trying their account, or got in. */
export function isNoteworthy(event: ActivityEvent): boolean {
	return (
		event.type === 'sign-in-failed' ||
		event.type === 'lockout' ||
		event.type === 'recovery-code-used' ||
		event.type === '2fa-disabled' ||
		(event.type === 'sign-in' && event.newDevice === true)
	);
}
