/**
 * The translation mechanism, free of Svelte and of the DOM: the PWA, its service worker and the CLI
 * (under tsx) all use it. A catalog maps a key to a text with `{name}` placeholders, or to the plural
 * forms of one, chosen by the locale's own rules (`Intl.PluralRules`: in French 0 and 1 are
 * singular, in English only 1).
 */

/** The languages Hourglass speaks; the first one is the fallback. */
export const LOCALES = ['en', 'fr'] as const;
export type Locale = (typeof LOCALES)[number];
export const BASE_LOCALE: Locale = 'en';

/** The forms of a message that depends on a number; `other` is required, as in every language. */
export type PluralText = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };
export type Message = string | PluralText;
export type Catalog = Record<string, Message>;

/**
 * The shape another language's catalog must have: exactly the keys of `C` (a missing or an extra key
 * is a compile error), with a plural where `C` has one.
 */
export type Translation<C extends Catalog> = { [K in keyof C]: C[K] extends string ? string : PluralText };

export type Params = Record<string, string | number>;

/** The locale among ours that best fits a list of language tags (`navigator.languages`), else English. */
export function matchLocale(tags: readonly string[] | undefined): Locale {
	for (const tag of tags ?? []) {
		const language = tag.toLowerCase().split(/[-_.@]/)[0];
		const found = LOCALES.find((locale) => locale === language);
		if (found) return found;
	}
	return BASE_LOCALE;
}

/**
 * The locale of a POSIX environment, as `gettext` picks it: `LC_ALL`, then `LC_MESSAGES`, then
 * `LANG` (the first one set and not empty); "C" and "POSIX" mean English. `LANGUAGE`, a list like
 * "fr:en", comes first when set, as with GNU programs.
 */
export function localeFromEnv(env: Record<string, string | undefined>): Locale {
	const chosen = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((value) => value);
	if (!chosen || chosen === 'C' || chosen === 'POSIX' || chosen.startsWith('C.')) return BASE_LOCALE;
	const list = env.LANGUAGE ? env.LANGUAGE.split(':').filter(Boolean) : [];
	return matchLocale([...list, chosen]);
}

const pluralRules = new Map<Locale, Intl.PluralRules>();

/** The plural category of `count` in `locale`: "one" for 0 and 1 in French, for 1 only in English. */
export function pluralCategory(locale: Locale, count: number): Intl.LDMLPluralRule {
	let rules = pluralRules.get(locale);
	if (!rules) {
		rules = new Intl.PluralRules(locale);
		pluralRules.set(locale, rules);
	}
	return rules.select(count);
}

/** Fills a message's `{name}` placeholders; a plural message takes its form from `params.count`. */
export function render(locale: Locale, message: Message, params?: Params): string {
	const text =
		typeof message === 'string'
			? message
			: (message[pluralCategory(locale, Number(params?.count ?? 0))] ?? message.other);
	if (!params) return text;
	return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
		name in params ? formatParam(locale, params[name]) : whole,
	);
}

function formatParam(locale: Locale, value: string | number): string {
	return typeof value === 'number' ? value.toLocaleString(locale) : value;
}

/** The placeholders a message uses, in every form: the tests check both languages use the same. */
export function placeholders(message: Message): string[] {
	const texts = typeof message === 'string' ? [message] : Object.values(message);
	const names = new Set<string>();
	for (const text of texts) for (const match of text.matchAll(/\{(\w+)\}/g)) names.add(match[1]);
	return [...names].sort();
}

/** A translator for one locale, for code that does not change language while it runs (the CLI, the worker). */
export function translator<C extends Catalog>(
	locale: Locale,
	catalogs: { en: C } & { [L in Exclude<Locale, 'en'>]: Translation<NoInfer<C>> },
): (key: keyof C & string, params?: Params) => string {
	const catalog = catalogs[locale] as Catalog;
	return (key, params) => render(locale, catalog[key], params);
}
