import { t } from '../i18n';
import {
	DOWNLOAD_PATH,
	safeFileName,
	type DownloadDemand,
	type DownloadFeed,
	type DownloadStart,
} from './files-sw';

/**
 * Where a downloaded file's plaintext is written, a chunk at a time, never as one big Blob: a file
 * the user picks through the File System Access API where the browser has it (Chromium), else a
 * download that the service worker streams from this page (src/service-worker/index.ts). Both
 * throw away what they took when `abort` is called: the File System Access API writes to a swap
 * file that only `close` moves into place, and an errored service-worker stream fails the download,
 * which the browser then deletes.
 */
export interface SaveTarget {
	write(bytes: Uint8Array): Promise<void>;
	close(): Promise<void>;
	abort(): Promise<void>;
}

interface SavePickerWindow {
	showSaveFilePicker?: (options: { suggestedName: string }) => Promise<{
		createWritable(): Promise<{
			write(data: Uint8Array): Promise<void>;
			close(): Promise<void>;
			abort(): Promise<void>;
		}>;
	}>;
}

/**
 * Opens where the file goes. Call it straight from the click (the picker needs the user's gesture);
 * it throws an AbortError when the user closes the picker.
 */
export async function openSaveTarget(name: string, mime: string, size: number): Promise<SaveTarget> {
	const picker = (window as unknown as SavePickerWindow).showSaveFilePicker;
	if (picker) {
		const handle = await picker.call(window, { suggestedName: safeFileName(name) });
		const writable = await handle.createWritable();
		return {
			write: (bytes) => writable.write(bytes),
			close: () => writable.close(),
			abort: () => writable.abort(),
		};
	}
	return streamedDownload(name, mime, size);
}

/** The service worker that controls this page; just after the first visit it may still be claiming it. */
async function controller(): Promise<ServiceWorker | null> {
	const container = navigator.serviceWorker;
	if (!container) return null;
	if (container.controller) return container.controller;
	await Promise.race([container.ready, new Promise((resolve) => setTimeout(resolve, 5_000))]);
	if (container.controller) return container.controller;
	await new Promise((resolve) => {
		container.addEventListener('controllerchange', resolve, { once: true });
		setTimeout(resolve, 5_000);
	});
	return container.controller;
}

/** A download the service worker serves from a stream this page feeds, one chunk per pull. */
async function streamedDownload(name: string, mime: string, size: number): Promise<SaveTarget> {
	const worker = await controller();
	if (!worker) throw new Error(t('save.needsWorker'));
	const id = crypto.randomUUID();
	const channel = new MessageChannel();
	const port = channel.port1;
	let credits = 0;
	let cancelled = false;
	let wake: (() => void) | null = null;
	const ready = new Promise<void>((resolve) => {
		port.onmessage = (event: MessageEvent<DownloadDemand>) => {
			if (event.data.type === 'ready') resolve();
			else if (event.data.type === 'pull') credits += 1;
			else cancelled = true;
			wake?.();
		};
	});
	const start: DownloadStart = { type: 'hourglass:download', id, name, mime, size };
	worker.postMessage(start, [channel.port2]);
	await ready;
	const frame = document.createElement('iframe');
	frame.hidden = true;
	frame.src = `${DOWNLOAD_PATH}${id}`;
	document.body.append(frame);
	const send = (message: DownloadFeed) => port.postMessage(message);
	const done = () => {
		port.close();
		// Give the browser the download's end before the frame goes.
		setTimeout(() => frame.remove(), 60_000);
	};
	return {
		async write(bytes) {
			while (credits === 0 && !cancelled) await new Promise<void>((resolve) => (wake = resolve));
			if (cancelled) throw new DOMException('The download was cancelled.', 'AbortError');
			credits -= 1;
			send({ type: 'chunk', bytes });
		},
		async close() {
			send({ type: 'end' });
			done();
		},
		async abort() {
			send({ type: 'abort' });
			done();
		},
	};
}
