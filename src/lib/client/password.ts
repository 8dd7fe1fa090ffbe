import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import type { translations as frenchTexts } from '@zxcvbn-ts/language-fr';
import { LIMITS } from '../protocol/limits';
import { i18n, t } from '../i18n';
import type { Locale } from '../i18n/catalog';

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

const checkers = new Map<Locale, Promise<ZxcvbnFactory>>();

/**
 * The dictionaries weigh a few hundred kB: they load on first use, not with the app, and only the
 * UI language's. English words are checked in every language (they fill the lists of leaked
 * passwords everywhere); French adds its own words and names, and zxcvbn's feedback in French.
 */
function loadChecker(locale: Locale): Promise<ZxcvbnFactory> {
	let checker = checkers.get(locale);
	if (!checker) {
		checker = (async () => {
			const [{ ZxcvbnFactory }, common, en, local] = await Promise.all([
				import('@zxcvbn-ts/core'),
				import('@zxcvbn-ts/language-common'),
				import('@zxcvbn-ts/language-en'),
				locale === 'fr' ? import('@zxcvbn-ts/language-fr') : null,
			]);
			return new ZxcvbnFactory({
				translations: local ? frenchTypography(local.translations) : en.translations,
				graphs: common.adjacencyGraphs,
				dictionary: { ...common.dictionary, ...en.dictionary, ...local?.dictionary },
				// Edit-distance matching costs up to half a second per check on a laptop: too slow to run
				// as someone types. The dictionaries with their l33t and reversed variants stay on.
				useLevenshteinDistance: false,
			});
		})();
		checkers.set(locale, checker);
	}
	return checker;
}

/**
 * zxcvbn's French texts with the typography of our own catalog: typographic apostrophes, « » for
 * its quoted examples, a narrow no-break space before a colon, and a full stop at the end of each
 * warning and suggestion, as in English.
 */
function frenchTypography(texts: typeof frenchTexts): typeof frenchTexts {
	const fix = (text: string) =>
		text
			.replace(/(\p{L})'(\p{L})/gu, '$1\u2019$2')
			.replace(/'([^']+)'/g, '\u00ab\u202f$1\u202f\u00bb')
			.replace(/ ?:/g, '\u202f:');
	const sentence = (text: string) => (/[.!?]$/.test(text) ? fix(text) : `${fix(text)}.`);
	const each = (group: Record<string, string>, change: (text: string) => string) =>
		Object.fromEntries(Object.entries(group).map(([key, text]) => [key, change(text)]));
	return {
		warnings: each(texts.warnings, sentence),
		suggestions: each(texts.suggestions, sentence),
		timeEstimation: each(texts.timeEstimation, fix),
	} as typeof frenchTexts;
}

/** Starts loading the checker early: at the first keystroke of a new password. */
export function preloadStrength(): void {
	void loadChecker(i18n.locale);
}

/**
 * Length first (at least 12, no composition rules), then how guessable it is; the feedback is in the
 * UI's language.
 */
export async function checkStrength(password: string, userInputs: string[] = []): Promise<Strength> {
	const zxcvbn = await loadChecker(i18n.locale);
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
