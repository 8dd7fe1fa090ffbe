/**
 * The command line's language: French or English, from the environment as GNU programs read it
 * (`LANGUAGE`, `LC_ALL`, `LC_MESSAGES`, `LANG`; "C" means English), chosen once when the program
 * starts. Output meant for scripts does not change with it: ids, codes (`hourglass: CODE: …`), times
 * (`YYYY-MM-DD HH:MM:SS`) and the words of the command line stay the same in every language.
 */
import {
	BASE_LOCALE,
	localeFromEnv,
	render,
	type Catalog,
	type Locale,
	type Params,
} from '../../src/lib/i18n/catalog';
import type { ErrorCode } from '../../src/lib/protocol/errors';
import { en } from '../../src/lib/i18n/en';
import { fr } from '../../src/lib/i18n/fr';
import { cliEn, type CliKey } from './en';
import { cliFr } from './fr';

const CATALOGS: Record<Locale, Catalog> = { en: cliEn, fr: cliFr };

let locale: Locale = BASE_LOCALE;

/** Sets the language from the environment; until then, and in the unit specs, it is English. */
export function setCliLocale(env: Record<string, string | undefined>): Locale {
	locale = localeFromEnv(env);
	return locale;
}

export function cliLocale(): Locale {
	return locale;
}

/** The text of `key` in the command line's language, its `{placeholders}` filled from `params`. */
export function t(key: CliKey, params?: Params): string {
	return render(locale, CATALOGS[locale][key], params);
}

/**
 * NOT_FOUND means another thing for each command (a user, a message, an upload): the hub's own
 * words say which, so they stay.
 */
const HUB_WORDS_KEPT: ReadonlySet<ErrorCode> = new Set(['NOT_FOUND', 'BAD_REQUEST', 'FORBIDDEN']);

/**
 * A refusal's text: the PWA's wording of its code in the command line's language where it has one,
 * else the message that came with it.
 */
export function hubErrorText(error: { code: ErrorCode; message: string }): string {
	const key = `error.${error.code}`;
	if (HUB_WORDS_KEPT.has(error.code) || !(key in en)) return error.message;
	return appText(key as keyof typeof en);
}

/** A text of the PWA's catalog in the command line's language (what both clients say alike). */
export function appText(key: keyof typeof en, params?: Params): string {
	const catalog: Catalog = locale === 'fr' ? fr : en;
	return render(locale, catalog[key], params);
}
