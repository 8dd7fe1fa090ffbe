import { t } from '../i18n';
import { PushSubscribeRequest } from '../protocol';
import type { HubApi } from '../sdk';
import { notifier } from './notify.svelte';
import { errorText } from './strings';

/** Waits this long for the service worker before saying it is not there (a dev server has none). */
const WORKER_WAIT_MS = 10_000;

function bytesOfBase64url(text: string): Uint8Array<ArrayBuffer> {
	const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
	const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
	return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function sameBytes(a: ArrayBuffer | null, b: Uint8Array): boolean {
	if (!a || a.byteLength !== b.length) return false;
	const view = new Uint8Array(a);
	return view.every((byte, i) => byte === b[i]);
}

async function workerRegistration(): Promise<ServiceWorkerRegistration> {
	const worker = navigator.serviceWorker;
	if (!worker) throw new Error(t('push.noWorker'));
	let timer: ReturnType<typeof setTimeout> | undefined;
	const late = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(t('push.workerDown'))), WORKER_WAIT_MS);
	});
	try {
		return await Promise.race([worker.ready, late]);
	} finally {
		clearTimeout(timer);
	}
}

/**
 * This device's "Notifications when the app is closed": a Web Push subscription made with the
 * hub's VAPID key and given to the hub, or none. The hub's answer is the truth; the browser's
 * subscription follows it.
 */
export class WebPushSetting {
	#enabled = $state(false);
	#busy = $state(false);
	#error = $state<string | null>(null);

	constructor(private readonly api: HubApi) {}

	/** Whether this browser can receive Web Push at all (iOS: only as a home-screen app). */
	get supported(): boolean {
		return (
			typeof navigator !== 'undefined' && 'serviceWorker' in navigator && typeof PushManager !== 'undefined'
		);
	}

	get enabled(): boolean {
		return this.#enabled;
	}

	get busy(): boolean {
		return this.#busy;
	}

	get error(): string | null {
		return this.#error;
	}

	async load(): Promise<void> {
		if (!this.supported) return;
		await this.#run(async () => {
			const [{ enabled }, registration] = await Promise.all([this.api.pushState(), workerRegistration()]);
			this.#enabled = enabled && (await registration.pushManager.getSubscription()) !== null;
		});
	}

	/** Turns it on or off; on asks for the notification permission first (call it from the user's click). */
	set(on: boolean): Promise<void> {
		return this.#run(() => (on ? this.#subscribe() : this.#unsubscribe()));
	}

	async #subscribe(): Promise<void> {
		if (notifier.permission !== 'granted') await notifier.requestPermission();
		if (notifier.permission !== 'granted') {
			throw new Error(t('push.blocked'));
		}
		const [registration, { publicKey }] = await Promise.all([workerRegistration(), this.api.pushKey()]);
		const key = bytesOfBase64url(publicKey);
		let subscription = await registration.pushManager.getSubscription();
		// Made with another hub key (the hub's was replaced): it can never be pushed to again.
		if (subscription && !sameBytes(subscription.options.applicationServerKey, key)) {
			await subscription.unsubscribe();
			subscription = null;
		}
		subscription ??= await registration.pushManager.subscribe({
			userVisibleOnly: true,
			applicationServerKey: key,
		});
		await this.api.subscribePush(PushSubscribeRequest.parse(subscription.toJSON()));
		this.#enabled = true;
	}

	async #unsubscribe(): Promise<void> {
		await this.api.unsubscribePush();
		this.#enabled = false;
		const registration = await workerRegistration();
		await (await registration.pushManager.getSubscription())?.unsubscribe();
	}

	async #run(action: () => Promise<void>): Promise<void> {
		if (this.#busy) return;
		this.#busy = true;
		this.#error = null;
		try {
			await action();
		} catch (error) {
			this.#error = errorText(error);
		} finally {
			this.#busy = false;
		}
	}
}
