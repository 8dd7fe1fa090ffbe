// App-wide keyboard and screen-reader help: where focus goes when a page opens, the skip link, the search shortcut.

/** The composer's text box, when a conversation is open (Composer.svelte). */
const COMPOSER = '#composer-text';

/**
 * Moves focus into a page that just opened, so that a screen reader announces it and Tab starts
 * there: to the element the page marks `data-focus-on-open` (the search field), else its `h1`
 * (focusable by script only), else `main`.
 */
export function focusPage(main: HTMLElement): void {
	const target =
		main.querySelector<HTMLElement>('[data-focus-on-open]') ?? main.querySelector<HTMLElement>('h1') ?? main;
	if (!target.matches('input, textarea, select, button, a[href], [tabindex]')) target.tabIndex = -1;
	target.focus({ preventScroll: true });
}

/** Where the skip link leads: the message box in a conversation, else the page's main content. */
export function skipTarget(main: HTMLElement): HTMLElement {
	return main.querySelector<HTMLElement>(COMPOSER) ?? main;
}

/** Ctrl+K (⌘K) anywhere, or "/" outside a text field: the keys that open the search. */
export function isSearchShortcut(event: KeyboardEvent): boolean {
	if (event.altKey || event.defaultPrevented) return false;
	if (event.key.toLowerCase() === 'k' && (event.ctrlKey || event.metaKey) && !event.shiftKey) return true;
	if (event.key !== '/' || event.ctrlKey || event.metaKey) return false;
	const target = event.target;
	return !(
		target instanceof HTMLElement &&
		(target.isContentEditable || target.matches('input, textarea, select'))
	);
}
