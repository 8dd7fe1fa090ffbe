/** The title's unread prefix, as in "(3) Hourglass"; more than 99 shows as "(99+)". */
const PREFIX = /^\(\d+\+?\) /;

/** `title` with the unread count in front (or without any, for 0). Pure, so the title can be re-derived. */
export function titleWithCount(title: string, count: number): string {
	const base = title.replace(PREFIX, '');
	if (count <= 0) return base;
	return `(${count > 99 ? '99+' : count}) ${base}`;
}

/**
 * The unread count outside the page: in the document title, which each page sets for itself (so
 * the prefix is put back whenever a page changes the title), and on the installed app's icon
 * through the Badging API where the browser has it.
 */
export class Attention {
	#count = 0;
	#observer: MutationObserver | null = null;

	/** Follows the title from now on; returns the function that stops and clears everything. */
	start(): () => void {
		this.#observer = new MutationObserver(() => this.#applyTitle());
		this.#observer.observe(document.head, { childList: true, subtree: true, characterData: true });
		return () => {
			this.#observer?.disconnect();
			this.#observer = null;
			this.show(0);
		};
	}

	show(count: number): void {
		this.#count = count;
		this.#applyTitle();
		this.#applyBadge();
	}

	#applyTitle(): void {
		const next = titleWithCount(document.title, this.#count);
		if (document.title !== next) document.title = next;
	}

	#applyBadge(): void {
		if (!('setAppBadge' in navigator)) return;
		// The badge is an extra: a browser or OS that refuses it (not installed, no permission) has the title.
		const done = this.#count > 0 ? navigator.setAppBadge(this.#count) : navigator.clearAppBadge();
		done.catch(() => undefined);
	}
}
