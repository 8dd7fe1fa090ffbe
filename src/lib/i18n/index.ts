/**
 * The PWA's language. The choice is the user's (remembered per device), else the browser's
 * (`navigator.languages`), else English. English is bundled; French is fetched only when wanted, so
 * the sign-in page of an English browser loads one catalog. Changing the language re-renders every
 * text at once: `t` subscribes to it.
 */
import { createSubscriber } from 'svelte/reactivity';
import { BASE_LOCALE, LOCALES, matchLocale, render, type Locale, type Params } from './catalog';
import { en, type MessageKey } from './en';
import { storeLocaleForWorker } from './worker-locale';

export type LanguageChoice = 'system' | Locale;

const CHOICE_KEY = 'hourglass:language';

const loaders: Record<Locale, () => Promise<Record<MessageKey, unknown>>> = {
	en: async () => en,
	fr: async () => (await import('./fr')).fr,
};

let state: { choice: LanguageChoice; locale: Locale; messages: Record<string, unknown> } = {
	choice: readChoice(),
	locale: BASE_LOCALE,
	messages: en,
};

// Plain state with a Svelte subscription rather than runes, so that Node code (unit tests, the
// strings the CLI shares) can import it: what reads `t` in a template re-renders on a change.
const changes = new Set<() => void>();
const subscribe = createSubscriber((update) => {
	changes.add(update);
	return () => changes.delete(update);
});

function readChoice(): LanguageChoice {
	try {
		const stored = localStorage.getItem(CHOICE_KEY);
		if (stored === 'system' || LOCALES.includes(stored as Locale)) return stored as LanguageChoice;
	} catch {
		// No storage (a private window that refuses it): follow the browser.
	}
	return 'system';
}

/** The browser's own language among ours, for "System (…)". */
export function systemLocale(): Locale {
	return matchLocale(typeof navigator === 'undefined' ? [] : navigator.languages);
}

function resolve(choice: LanguageChoice): Locale {
	return choice === 'system' ? systemLocale() : choice;
}

async function apply(choice: LanguageChoice): Promise<void> {
	const locale = resolve(choice);
	const messages = await loaders[locale]();
	state = { choice, locale, messages };
	for (const update of changes) update();
	if (typeof document !== 'undefined') document.documentElement.lang = locale;
	void storeLocaleForWorker(locale);
}

let started: Promise<void> | null = null;

/** Loads the catalog of the starting language: the app renders once this resolves. */
export function startI18n(): Promise<void> {
	started ??= apply(state.choice);
	return started;
}

/** Applies and remembers a choice of language on this device. */
export async function chooseLanguage(choice: LanguageChoice): Promise<void> {
	try {
		if (choice === 'system') localStorage.removeItem(CHOICE_KEY);
		else localStorage.setItem(CHOICE_KEY, choice);
	} catch {
		// The choice holds for this visit only.
	}
	await apply(choice);
}

export const i18n = {
	get locale(): Locale {
		subscribe();
		return state.locale;
	},
	get choice(): LanguageChoice {
		subscribe();
		return state.choice;
	},
};

/**
 * The tag dates and numbers are formatted with: the browser's own variant of the active language
 * ("en-GB" writes 13:35, "en-US" 1:35 PM), else the language alone.
 */
export function formatLocale(): string {
	const locale = i18n.locale;
	const tags = typeof navigator === 'undefined' ? [] : navigator.languages;
	return tags.find((tag) => tag.toLowerCase().split('-')[0] === locale) ?? locale;
}

/** The text of `key` in the current language, its `{placeholders}` filled; plurals take `count`. */
export function t(key: MessageKey, params?: Params): string {
	subscribe();
	const message = (state.messages[key] ?? en[key]) as Parameters<typeof render>[1];
	return render(state.locale, message, params);
}
