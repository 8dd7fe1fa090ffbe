import { ProtocolError } from '../src/lib/protocol';
import { ApiError, FingerprintMismatchError, KeyChangedError } from '../src/lib/sdk';
import { UsageError } from './args';
import { SafetyMismatchError } from './commands';
import { formatWait } from './format';
import { cliLocale, hubErrorText, t } from './i18n';
import { ProfileError } from './profile';

/** Exit codes: 0 done, 1 refused by the hub or failed, 2 bad input on the command line. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Prints an error as `hourglass: CODE: message` on stderr and returns the exit code. */
export function report(error: unknown): number {
	const fail = (code: string, message: string, exit: number = EXIT.failed) => {
		process.stderr.write(`hourglass: ${code}: ${message}\n`);
		return exit;
	};
	if (error instanceof UsageError) {
		process.stderr.write(`hourglass: ${error.message}\n`);
		return EXIT.usage;
	}
	if (error instanceof ApiError || error instanceof ProtocolError) {
		// A refusal made before any request (a bad username or password) is bad input too.
		const local = error instanceof ApiError && error.status === 0 && error.code === 'BAD_REQUEST';
		return fail(error.code, waitText(error) ?? hubErrorText(error), local ? EXIT.usage : EXIT.failed);
	}
	if (error instanceof KeyChangedError) {
		return fail('KEY_CHANGED', `${error.message}\n  ${t('report.keyChanged', { peer: error.username })}`);
	}
	if (error instanceof FingerprintMismatchError) {
		return fail(
			'FINGERPRINT_MISMATCH',
			`${error.message} ${t('report.cardAgain', { peer: error.username })}`,
		);
	}
	if (error instanceof SafetyMismatchError) return fail('SAFETY_MISMATCH', error.message);
	if (error instanceof ProfileError) {
		const codes = {
			missing: 'NO_LOCAL_ACCOUNT',
			'wrong-password': 'INVALID_CREDENTIALS',
			damaged: 'LOCAL_DATA_DAMAGED',
		};
		const code = codes[error.kind];
		return fail(code, error.message, error.kind === 'missing' ? EXIT.usage : EXIT.failed);
	}
	return fail('INTERNAL', error instanceof Error ? error.message : String(error));
}

/** A refusal that asks to wait, in words: what happened, how long, and what else to do. */
export function waitText(error: ApiError | ProtocolError, now: number = Date.now()): string | null {
	const seconds = error.retryAfter;
	if (!seconds || (error.code !== 'LOCKED_OUT' && error.code !== 'RATE_LIMITED')) return null;
	const until = new Date(now + seconds * 1000).toLocaleTimeString(cliLocale());
	const wait = t('report.tryAgain', { wait: formatWait(seconds * 1000), until });
	return t(error.code === 'RATE_LIMITED' ? 'report.rateLimited' : 'report.lockedOut', { wait });
}
