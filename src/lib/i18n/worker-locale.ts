/**
 * The language the service worker writes notifications in. A push arrives with no page open, so the
 * page leaves its language in a cache the worker reads; without it the worker follows
 * `self.navigator.languages`. The cache name does not start with "hourglass-", which the worker
 * clears on each new version.
 */
import { LOCALES, matchLocale, type Locale } from './catalog';

const CACHE = 'settings';
const URL_PATH = '/__settings/locale';

export async function storeLocaleForWorker(locale: Locale): Promise<void> {
	if (typeof caches === 'undefined') return;
	try {
		const cache = await caches.open(CACHE);
		await cache.put(URL_PATH, new Response(locale, { headers: { 'content-type': 'text/plain' } }));
	} catch {
		// Storage refused: the worker follows the browser's language.
	}
}

export async function workerLocale(languages: readonly string[]): Promise<Locale> {
	try {
		const stored = await (await caches.open(CACHE)).match(URL_PATH);
		const text = stored ? await stored.text() : '';
		if (LOCALES.includes(text as Locale)) return text as Locale;
	} catch {
		// Fall through to the browser's language.
	}
	return matchLocale(languages);
}
