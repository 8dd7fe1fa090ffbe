import { call, type Messenger } from '../sdk';
import { errorText } from './strings';

export interface LockedView {
	id: string;
	to: string;
	sentAt: number;
	unlockAt: number;
	announce: boolean;
	/** The sender can open their own message; null if this device could not. */
	text: string | null;
}

/** The sender's own time-locked messages that are still sealed on the hub ("Sealed" view). */
export class Timelocks {
	#messenger: Messenger;
	#items = $state.raw<LockedView[]>([]);
	#loaded = $state(false);
	#error = $state<string | null>(null);

	constructor(messenger: Messenger) {
		this.#messenger = messenger;
	}

	get items(): LockedView[] {
		return this.#items;
	}

	get loaded(): boolean {
		return this.#loaded;
	}

	get error(): string | null {
		return this.#error;
	}

	async refresh(): Promise<void> {
		if (!this.#messenger.socket.connected) return;
		try {
			const { items } = await call(this.#messenger.socket, 'timelock:list', {});
			const views: LockedView[] = [];
			for (const item of items) {
				if (item.state !== 'locked' || item.unlockAt === null) continue;
				const opened = await this.#messenger.open(item);
				views.push({
					id: item.id,
					to: item.to,
					sentAt: item.sentAt,
					unlockAt: item.unlockAt,
					announce: item.announce,
					text: opened.text,
				});
			}
			this.#items = views.sort((a, b) => a.unlockAt - b.unlockAt);
			this.#error = null;
		} catch (error) {
			this.#error = errorText(error);
		} finally {
			this.#loaded = true;
		}
	}

	/** Cancels on the hub; the recipient then never receives it. Throws the hub's refusal. */
	async cancel(id: string): Promise<void> {
		await call(this.#messenger.socket, 'timelock:cancel', { id });
		this.remove(id);
	}

	remove(id: string): void {
		this.#items = this.#items.filter((item) => item.id !== id);
	}
}
