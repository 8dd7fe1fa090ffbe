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

	get toasts(): Toast[] {
		return this.#toasts;
	}

	get permission(): NotificationPermission | 'unsupported' {
		return this.#permission;
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
		try {
			// No message text on the lock screen: the title says who, the app shows what.
			new Notification(title, { tag: peer ?? undefined, icon: '/icon-192.png' });
		} catch {
			// Some platforms allow notifications only from a service worker; the toast is there anyway.
		}
	}
}

export const notifier = new Notifier();
