// The English catalog, the reference: every other language has exactly its keys (see fr.ts).
// Keys are grouped by screen; a text with {placeholders} gets them from t(key, params); a plural
// (an object of forms) gets its form from params.count, by Intl.PluralRules.
import type { Catalog } from './catalog';

export const en = {
	'app.opening': 'Opening Hourglass…',
	'bytes.B': { one: '{count} B', other: '{count} B' },
	'common.working': 'Working…',
	'countdown.days': '{days} d {clock}',
	'countdown.daysHours': '{days} d {hours} h',
	'countdown.hoursMinutes': '{hours} h {minutes} min',
	'error.ALREADY_RELEASED': 'Too late: this message has already been unlocked.',
	'error.BAD_SIGNATURE': 'The hub refused the message signature.',
	'error.DELETE_WINDOW_PASSED':
		'Too late: a message can be deleted for everyone only for a while after it was sent.',
	'error.INTERNAL': 'The hub had a problem. Try again later.',
	'error.INVALID_CREDENTIALS': 'Wrong username or password.',
	'error.LOCKED_OUT':
		'Too many failed sign-ins: this account is locked for devices the hub does not know. A device that signed in to it before still can.',
	'error.LOCKED_OUT.wait':
		'Too many failed sign-ins: this account is locked for devices the hub does not know. Try again in {wait}, or sign in on a device that signed in to it before.',
	'error.NOT_CANCELLABLE': 'This message can no longer be cancelled.',
	'error.NOT_FOUND': 'There is no user with that name.',
	'error.PAYLOAD_TOO_LARGE': 'This message is too long.',
	'error.QUOTA_STORAGE':
		'Your messages take all the space this hub allows you. Older messages are removed some days after they are delivered; send this again then.',
	'error.QUOTA_UNDELIVERED':
		'Too many of your messages are still waiting for this person. Send this again once they have received them.',
	'error.RATE_LIMITED': 'Too many attempts. Wait a minute, then try again.',
	'error.RATE_LIMITED.wait': 'Too many attempts. Try again in {wait}.',
	'error.REQUEST_LIMIT':
		'This person has not accepted your message request yet. Wait until they do before sending more.',
	'error.UNAUTHENTICATED': 'Your session has ended. Sign in again.',
	'error.UNAVAILABLE': 'The hub cannot be reached. Check your connection and try again.',
	'error.UNLOCK_IN_PAST': 'The unlock time must be in the future.',
	'error.UNLOCK_TOO_FAR': 'The unlock time is too far ahead (at most 10 years).',
	'error.USERNAME_TAKEN': 'That username is already taken. Choose another one.',
	'error.keyChanged': 'The safety number with {name} has changed. Check it before sending.',
	'login.account': 'Account',
	'login.anotherAccount': 'Use another account',
	'login.code': 'Code',
	'login.codeHint':
		'The 6-digit code from your authenticator app, or one of your recovery codes (each works once).',
	'login.createAccount': 'Create account',
	'login.hide': 'Hide',
	'login.hubEnded': 'The hub ended your session.',
	'login.keepReading': 'Keep reading offline',
	'login.lockedHint':
		"This device holds {name}'s conversations, sealed with the password. It opens without a network.",
	'login.password': 'Password',
	'login.passwordHint':
		'At least {min} characters. A few unrelated words make a strong one. It never leaves this device: if you forget it, nobody can recover your messages.',
	'login.passwordSr': ' password',
	'login.reauthHint': 'Your conversations stay readable here; enter your password to reconnect.',
	'login.removeConfirm': "Remove {name}'s history and keys from this device? The account stays on the hub.",
	'login.removeFromDevice': 'Remove from this device',
	'login.show': 'Show',
	'login.signIn': 'Sign in',
	'login.signInAgain': 'Sign in again',
	'login.stillSignedIn': 'Still signed in: new messages keep arriving, sealed, and open when you unlock.',
	'login.tagline': 'End-to-end encrypted chat, with messages that open when you decide.',
	'login.title.create': 'Create your account',
	'login.title.twoFactor': 'Two-factor authentication',
	'login.title.unlock': 'Unlock Hourglass',
	'login.trust': 'Trust this device (stay signed in longer)',
	'login.unlock': 'Unlock',
	'login.username': 'Username',
	'login.usernameHint': '3 to 32 letters, digits, “_”, “.” or “-”. Others find you by it.',
	'login.verify': 'Verify',
	'login.waiting': { one: '{count} new message waiting.', other: '{count} new messages waiting.' },
	'problem.keyChanged': 'This message could not be verified: the sender’s keys have changed.',
	'problem.unverified': 'This message could not be verified.',
	'push.from': 'New message from {name}',
	'push.generic': 'Something new arrived in Hourglass',
	'strength.0': 'Very weak',
	'strength.1': 'Weak',
	'strength.2': 'Fair',
	'strength.3': 'Strong',
	'strength.4': 'Very strong',
	'strength.checking': 'Checking…',
	'strength.guessable': 'This password is too easy to guess. Add a few uncommon words.',
	'strength.label': 'Strength',
	'strength.max': 'Use at most {n} characters.',
	'strength.min': 'Use at least {n} characters.',
	'timer.off': 'off',
	'timer.theyOff': '{name} turned off disappearing messages',
	'timer.theySet': '{name} set disappearing messages to {length}',
	'timer.youOff': 'You turned off disappearing messages',
	'timer.youSet': 'You set disappearing messages to {length}',
} satisfies Catalog;

export type MessageKey = keyof typeof en;
