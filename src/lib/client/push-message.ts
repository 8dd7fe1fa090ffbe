import { PushMessage } from '../protocol';

/** The message the service worker posts to a window to open a conversation there (no reload). */
export const OPEN_CONVERSATION = 'hourglass:open-conversation';

export interface OpenConversation {
	type: typeof OPEN_CONVERSATION;
	/** The path to open, under the app's scope: `chat/<peer>`, or `chat` for the list. */
	path: string;
}

export interface SystemNotification {
	title: string;
	/** The conversation's tag: a newer notification from the same person replaces the older one. */
	tag: string;
	/** Opened by a click, relative to the app's scope. */
	path: string;
}

/** The path of a conversation, relative to the app's scope. */
export function conversationPath(peer: string | null): string {
	return peer === null ? 'chat' : `chat/${encodeURIComponent(peer)}`;
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

export function isOpenConversation(data: unknown): data is OpenConversation {
	return (
		typeof data === 'object' &&
		data !== null &&
		(data as { type?: unknown }).type === OPEN_CONVERSATION &&
		typeof (data as { path?: unknown }).path === 'string'
	);
}
