import { PushMessage } from '../protocol';
import { conversationPath } from './conversation-path';

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
export function notificationOfPush(data: unknown): SystemNotification {
	const parsed = PushMessage.safeParse(data);
	if (!parsed.success)
		return { title: 'Something new arrived in Hourglass', tag: 'hourglass', path: conversationPath(null) };
	const { from } = parsed.data;
	return { title: `New message from ${from}`, tag: `chat:${from}`, path: conversationPath(from) };
}

/** The push's data as JSON, or null (an empty or garbled push). */
export function pushData(text: () => string): unknown {
	try {
		return JSON.parse(text()) as unknown;
	} catch {
		return null;
	}
}
