// What the page and the service worker say about a streamed download (files-save.ts and
// src/service-worker/index.ts): no DOM here, the worker imports it too.

/** Where the service worker serves streamed downloads: `${DOWNLOAD_PATH}${id}`. */
export const DOWNLOAD_PATH = '/_download/';

/** Page → service worker, with a MessagePort for the bytes: a download is about to start. */
export interface DownloadStart {
	type: 'hourglass:download';
	id: string;
	name: string;
	mime: string;
	size: number;
}

/** Page → service worker, on the port. */
export type DownloadFeed = { type: 'chunk'; bytes: Uint8Array } | { type: 'end' } | { type: 'abort' };

/** Service worker → page, on the port: registered (`ready`), send the next chunk (`pull`), the user stopped it (`cancel`). */
export type DownloadDemand = { type: 'ready' } | { type: 'pull' } | { type: 'cancel' };

/** A name safe to offer as a file name: no path, no control characters, not empty. */
export function safeFileName(name: string): string {
	// eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
	const cleaned = name.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, '_').replace(/^[.\s]+|[.\s]+$/g, '');
	return cleaned === '' ? 'file' : cleaned.slice(0, 200);
}

/** The Content-Disposition of a streamed download: an attachment under a safe name, in UTF-8. */
export function contentDisposition(name: string): string {
	const safe = safeFileName(name);
	const ascii = safe.replace(/[^\x20-\x7e]/g, '_').replace(/["%;]/g, '_');
	// RFC 5987: encodeURIComponent leaves ' ( ) * as they are, which the header's syntax does not allow.
	const encoded = encodeURIComponent(safe).replace(
		/['()*]/g,
		(c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
	);
	return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
