// What a screen reader is told as a conversation's rows change: new messages, never history.
import { t } from '../i18n';
import type { MessageView } from './conversations.svelte';

type Row = Pick<MessageView, 'id' | 'direction' | 'status' | 'order' | 'peer' | 'text' | 'file' | 'problem'>;

/** Longest part of a message read out; the rest is in the conversation. */
const SPOKEN_MAX = 200;

/**
 * Follows one conversation's rows and picks those to announce: incoming messages that are new since
 * the last look and placed after everything seen before. The first look is history and says nothing,
 * nor do older rows loaded while scrolling up, nor a row that changed (delivered, deleted).
 */
export class Arrivals {
	#known = new Set<string>();
	#newest = -Infinity;
	#started = false;

	next(rows: readonly Row[]): Row[] {
		const fresh = this.#started
			? rows.filter(
					(m) =>
						!this.#known.has(m.id) &&
						m.direction === 'in' &&
						m.status === 'received' &&
						m.order > this.#newest,
				)
			: [];
		this.#started = true;
		for (const m of rows) {
			this.#known.add(m.id);
			this.#newest = Math.max(this.#newest, m.order);
		}
		return fresh;
	}
}

/** The words for one new message: plain text, cut for speech only. */
export function arrivalText(m: Row): string {
	if (m.problem) return t('arrival.unchecked', { name: m.peer });
	if (m.file) return t('arrival.file', { name: m.peer, file: m.file.name });
	const text = m.text ?? '';
	return t('arrival.text', {
		name: m.peer,
		text: text.length > SPOKEN_MAX ? `${text.slice(0, SPOKEN_MAX)}…` : text,
	});
}
