import { startI18n } from '../lib/i18n';

// A single-page app: every page renders in the browser.
export const ssr = false;
export const prerender = false;

/** The first render waits for the catalog of the user's language (French is fetched only when wanted). */
export async function load(): Promise<void> {
	await startI18n();
}
