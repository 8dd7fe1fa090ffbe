import type { DerivedKeys } from '../crypto';
import type { Deriver } from '../sdk';
import type { KdfReply, KdfRequest } from './kdf.worker';

/** The worker while a derivation runs; ended when none is left (tests/e2e/performance.test.ts checks it). */
let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (keys: DerivedKeys) => void; reject: (error: Error) => void }>();

function kdfWorker(): Worker {
	if (worker) return worker;
	worker = new Worker(new URL('./kdf.worker.ts', import.meta.url), { type: 'module', name: 'kdf' });
	worker.onmessage = (event: MessageEvent<KdfReply>) => {
		const reply = event.data;
		const waiter = pending.get(reply.id);
		if (!waiter) return;
		pending.delete(reply.id);
		// Argon2 runs at sign-in and unlock only: the worker's 64 MiB and its libsodium go with it.
		if (pending.size === 0) endWorker();
		if (reply.ok) {
			waiter.resolve({ authKey: reply.authKey, wrapKey: reply.wrapKey, localKey: reply.localKey });
		} else {
			waiter.reject(new Error(`workerDerive: ${reply.message}`));
		}
	};
	worker.onerror = (event) => {
		// A worker that failed to load cannot answer anything still waiting: fail them all and start afresh next time.
		for (const waiter of pending.values()) waiter.reject(new Error(`workerDerive: ${event.message}`));
		pending.clear();
		endWorker();
	};
	return worker;
}

function endWorker(): void {
	worker?.terminate();
	worker = null;
}

/** The SDK's `derive` option for the browser: Argon2id in a Web Worker, off the page's thread. */
export const workerDerive: Deriver = (password, salt, kdf) =>
	new Promise<DerivedKeys>((resolve, reject) => {
		const id = nextId++;
		pending.set(id, { resolve, reject });
		const request: KdfRequest = { id, password, salt, kdf };
		kdfWorker().postMessage(request);
	});
