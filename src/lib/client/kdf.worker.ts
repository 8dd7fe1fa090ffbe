/// <reference lib="webworker" />
// Argon2id takes tens of MiB and a noticeable fraction of a second: it runs here so the page never freezes.
import { deriveKeys } from '../crypto';
import type { KdfParams } from '../protocol';

export interface KdfRequest {
	id: number;
	password: string;
	salt: Uint8Array;
	kdf: KdfParams;
}

export type KdfReply =
	| { id: number; ok: true; authKey: Uint8Array; wrapKey: Uint8Array; localKey: Uint8Array }
	| { id: number; ok: false; message: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (event: MessageEvent<KdfRequest>) => {
	const { id, password, salt, kdf } = event.data;
	let reply: KdfReply;
	try {
		const keys = await deriveKeys(password, salt, kdf);
		reply = { id, ok: true, ...keys };
	} catch (error) {
		reply = { id, ok: false, message: error instanceof Error ? error.message : String(error) };
	}
	scope.postMessage(reply);
};
