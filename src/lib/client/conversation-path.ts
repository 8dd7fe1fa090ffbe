// Where a notification leads: shared by the page and the service worker, free of the protocol's
// schemas (zod), since the root layout's toasts import it before anyone signs in.

/** The message the service worker posts to a window to open a conversation there (no reload). */
export const OPEN_CONVERSATION = 'hourglass:open-conversation';

export interface OpenConversation {
	type: typeof OPEN_CONVERSATION;
	/** The path to open, under the app's scope: `chat/<peer>`, or `chat` for the list. */
	path: string;
}

/** The path of a conversation, relative to the app's scope. */
export function conversationPath(peer: string | null): string {
	return peer === null ? 'chat' : `chat/${encodeURIComponent(peer)}`;
}

export function isOpenConversation(data: unknown): data is OpenConversation {
	return (
		typeof data === 'object' &&
		data !== null &&
		(data as { type?: unknown }).type === OPEN_CONVERSATION &&
		typeof (data as { path?: unknown }).path === 'string'
	);
}
