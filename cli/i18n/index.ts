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
