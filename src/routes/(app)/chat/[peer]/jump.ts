import { tick } from 'svelte';
import type { AccountDb } from '../../../../lib/client/db';
import type { MessageWindow } from '../../../../lib/client/message-window.svelte';

/**
 * Opens `view` around the message `id` (a search result) and, once its row is on screen, scrolls it
 * to the middle, marks it (`data-found`) and gives it focus so a screen reader reads it. False when
 * the message is not in this conversation (any more).
 */
export async function jumpToMessage(
	db: AccountDb,
	view: MessageWindow,
	id: string,
	scroller: HTMLElement,
): Promise<boolean> {
	const row = await db.messages.get(id);
	if (!row || row.peer !== view.peer) return false;
	await view.showAround(row.order);
	const selector = `li[data-id="${CSS.escape(id)}"]`;
	for (let frames = 0; frames < 600; frames++) {
		await tick();
		const el = scroller.querySelector<HTMLElement>(selector);
		if (el) {
			for (const old of scroller.querySelectorAll<HTMLElement>('li[data-found]')) delete old.dataset.found;
			el.dataset.found = '';
			el.tabIndex = -1;
			el.scrollIntoView({ block: 'center' });
			el.focus({ preventScroll: true });
			return true;
		}
		// The moved window is read from IndexedDB: wait for the next frame's render.
		await new Promise((resolve) => requestAnimationFrame(resolve));
	}
	return false;
}
