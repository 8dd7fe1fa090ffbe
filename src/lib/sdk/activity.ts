import type { ActivityEvent } from '../protocol';

/** The catalog keys of what an activity event says (src/lib/i18n/en.ts, `event.*`). */
export type ActivityKey =
	| 'event.registered'
	| 'event.signIn'
	| 'event.signInNewDevice'
	| 'event.wrongCode'
	| 'event.wrongPassword'
	| 'event.passwordChanged'
	| 'event.passwordChangedOthers'
	| 'event.2faOn'
	| 'event.2faOff'
	| 'event.recoveryUsed'
	| 'event.revoked'
	| 'event.lockout'
	| 'event.lockoutUntil';

/** A translator for those keys, in the reader's language. */
export type ActivityWords = (key: ActivityKey, params?: Record<string, string | number>) => string;

/**
 * What an activity event says, in the words the PWA and the CLI both show, in the reader's language
 * (`words`). `time` formats the lockout's end in the reader's way.
 */
export function describeActivity(
	event: ActivityEvent,
	time: (at: number) => string,
	words: ActivityWords,
): string {
	switch (event.type) {
		case 'registered':
			return words('event.registered');
		case 'sign-in':
			return words(event.newDevice ? 'event.signInNewDevice' : 'event.signIn');
		case 'sign-in-failed':
			return words(event.reason === 'code' ? 'event.wrongCode' : 'event.wrongPassword');
		case 'password-changed': {
			const others = event.count ?? 0;
			return others > 0
				? words('event.passwordChangedOthers', { count: others })
				: words('event.passwordChanged');
		}
		case '2fa-enabled':
			return words('event.2faOn');
		case '2fa-disabled':
			return words('event.2faOff');
		case 'recovery-code-used':
			return words('event.recoveryUsed');
		case 'sessions-revoked':
			return words('event.revoked', { count: event.count ?? 0 });
		case 'lockout':
			return event.until === undefined
				? words('event.lockout')
				: words('event.lockoutUntil', { until: time(event.until) });
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
