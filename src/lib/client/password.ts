import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { LIMITS } from '../protocol/limits';
import { t } from '../i18n';

export interface Strength {
	/** 0 (guessed at once) to 4 (very hard to guess). */
	score: 0 | 1 | 2 | 3 | 4;
	label: string;
	warning: string | null;
	suggestions: string[];
	/** May this password be used for a new account? */
	acceptable: boolean;
	/** Why not, when it may not. */
	reason: string | null;
}

const LABELS = ['strength.0', 'strength.1', 'strength.2', 'strength.3', 'strength.4'] as const;
/** Below this zxcvbn score a password is refused: common, breached-pattern or easy to guess. */
const MIN_SCORE = 3;

let checker: Promise<ZxcvbnFactory> | null = null;

/** The dictionaries weigh a few hundred kB: they load on first use, not with the app. */
function loadChecker(): Promise<ZxcvbnFactory> {
	checker ??= (async () => {
		const [{ ZxcvbnFactory }, common, en] = await Promise.all([
			import('@zxcvbn-ts/core'),
			import('@zxcvbn-ts/language-common'),
			import('@zxcvbn-ts/language-en'),
		]);
		return new ZxcvbnFactory({
			translations: en.translations,
			graphs: common.adjacencyGraphs,
			dictionary: { ...common.dictionary, ...en.dictionary },
			// Edit-distance matching costs up to half a second per check on a laptop: too slow to run
			// as someone types. The dictionaries with their l33t and reversed variants stay on.
			useLevenshteinDistance: false,
		});
	})();
	return checker;
}

/** Starts loading the checker early: at the first keystroke of a new password. */
export function preloadStrength(): void {
	void loadChecker();
}

/** Length first (at least 12, no composition rules), then how guessable it is. */
export async function checkStrength(password: string, userInputs: string[] = []): Promise<Strength> {
	const zxcvbn = await loadChecker();
	const result = zxcvbn.check(password.slice(0, 100), userInputs);
	const score = result.score;
	const tooShort = password.length < LIMITS.passwordMin;
	const tooLong = password.length > LIMITS.passwordMax;
	let reason: string | null = null;
	if (tooShort) reason = t('strength.min', { n: LIMITS.passwordMin });
	else if (tooLong) reason = t('strength.max', { n: LIMITS.passwordMax });
	else if (score < MIN_SCORE) {
		reason = result.feedback.warning ?? t('strength.guessable');
	}
	return {
		score,
		label: t(LABELS[score]),
		warning: result.feedback.warning,
		suggestions: result.feedback.suggestions,
		acceptable: reason === null,
		reason,
	};
}
