import { t } from '../i18n';
import { conversationPath } from './conversation-path';

export type ToastKind = 'info' | 'unlock';

export interface Toast {
	id: number;
	kind: ToastKind;
	title: string;
	body: string;
	/** The conversation the toast is about, if any. */
	peer: string | null;
}

const TOAST_MS = 7_000;

/** In-app toasts, and the system notification when the user allowed it and is looking elsewhere. */
class Notifier {
	#toasts = $state.raw<Toast[]>([]);
	#permission = $state<NotificationPermission | 'unsupported'>(
		typeof Notification === 'undefined' ? 'unsupported' : Notification.permission,
	);
	#nextId = 1;
	/** Why the last system notification could not be shown (Settings shows it), or null. */
	#systemError = $state<string | null>(null);

	get toasts(): Toast[] {
		return this.#toasts;
	}

	get permission(): NotificationPermission | 'unsupported' {
		return this.#permission;
	}

	get systemError(): string | null {
		return this.#systemError;
	}

	#toast(kind: ToastKind, title: string, body: string, peer: string | null): void {
		const toast = { id: this.#nextId++, kind, title, body, peer };
		this.#toasts = [...this.#toasts, toast];
		setTimeout(() => this.dismiss(toast.id), TOAST_MS);
	}

	dismiss(id: number): void {
		this.#toasts = this.#toasts.filter((t) => t.id !== id);
	}

	/** The user opened that conversation: its toasts have done their job. */
	dismissPeer(peer: string): void {
		this.#toasts = this.#toasts.filter((t) => t.peer !== peer);
	}

	/** Asks for the permission; browsers only allow it from a user's gesture. */
	async requestPermission(): Promise<void> {
		if (typeof Notification === 'undefined') return;
		this.#permission = await Notification.requestPermission();
	}

	/** A toast always; a system notification too when permitted and the page is hidden. */
	announce(kind: ToastKind, title: string, body: string, peer: string | null): void {
		this.#toast(kind, title, body, peer);
		if (this.#permission !== 'granted' || document.visibilityState === 'visible') return;
		void this.#showSystem(title, peer);
	}

	/** Settings' "Show a test notification": a system notification now, whatever the page's visibility. */
	async showTest(): Promise<void> {
		await this.#showSystem(t('notify.test'), null);
	}

	/**
	 * Through the service worker (`registration.showNotification`): the one way that works in an
	 * installed Android app, and its `notificationclick` opens the conversation. No message text on
	 * the lock screen: the title says who, the app shows what.
	 */
	async #showSystem(title: string, peer: string | null): Promise<void> {
		try {
			const registration = await navigator.serviceWorker?.getRegistration();
			if (!registration) throw new Error('the app’s service worker is not installed');
			await registration.showNotification(title, {
				tag: peer === null ? 'hourglass' : `chat:${peer}`,
				icon: new URL('icon-192.png', registration.scope).href,
				data: { path: conversationPath(peer) },
			});
			this.#systemError = null;
		} catch (error) {
			const reason = error instanceof Error ? error.message : String(error);
			// Said once until it works again: the in-app toast carried the news itself.
			if (this.#systemError === null) this.#toast('info', t('notify.failed'), reason, null);
			this.#systemError = reason;
		}
	}
}

export const notifier = new Notifier();
