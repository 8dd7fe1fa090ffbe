import { PushMessage } from '../protocol';
import { conversationPath } from './conversation-path';
import { translator, type Params } from '../i18n/catalog';
import { en } from '../i18n/en';
import { fr } from '../i18n/fr';

export interface SystemNotification {
	title: string;
	/** The conversation's tag: a newer notification from the same person replaces the older one. */
	tag: string;
	/** Opened by a click, relative to the app's scope. */
	path: string;
}

/**
 * What the service worker shows for a push message's data: "New message from alice" and nothing
 * else (the hub sends no content: docs/SECURITY.md, "Web Push"). Data that is not a push message of
 * the protocol still shows something, since every push must be shown, but only a generic line.
 */
export function notificationOfPush(data: unknown, text: PushText = englishText): SystemNotification {
	const parsed = PushMessage.safeParse(data);
	if (!parsed.success) return { title: text('push.generic'), tag: 'hourglass', path: conversationPath(null) };
	const { from } = parsed.data;
	return { title: text('push.from', { name: from }), tag: `chat:${from}`, path: conversationPath(from) };
}

/** The push's data as JSON, or null (an empty or garbled push). */
/** The worker's translator, for its own language (read from a cache the page fills: i18n/worker-locale.ts). */
export type PushText = (key: 'push.generic' | 'push.from', params?: Params) => string;

const englishText: PushText = translator('en', { en, fr });

export function pushData(text: () => string): unknown {
	try {
		return JSON.parse(text()) as unknown;
	} catch {
		return null;
	}
}
