import QRCode from 'qrcode';
import type { TotpSetupResponse, TotpStatus } from '../../../lib/protocol';
import type { HubApi } from '../../../lib/sdk';

/**
 * - `idle`: showing the status (on or off)
 * - `scan`: a new secret is shown as a QR code and as text, waiting for its first code
 * - `codes`: just enabled; the recovery codes are shown, this once
 */
export type TwoFactorStage = 'idle' | 'scan' | 'codes';

/** The two-factor section of the settings: its status, the enable steps and disable. */
export class TwoFactorSettings {
	#status = $state<TotpStatus | null>(null);
	#stage = $state<TwoFactorStage>('idle');
	#setup = $state.raw<(TotpSetupResponse & { qr: string }) | null>(null);
	#recoveryCodes = $state.raw<string[]>([]);

	constructor(
		private readonly api: HubApi,
		/** The authKey of the account's password (Argon2id in a worker). */
		private readonly authKey: (password: string) => Promise<string>,
	) {}

	get status(): TotpStatus | null {
		return this.#status;
	}

	get stage(): TwoFactorStage {
		return this.#stage;
	}

	get setup(): (TotpSetupResponse & { qr: string }) | null {
		return this.#setup;
	}

	get recoveryCodes(): string[] {
		return this.#recoveryCodes;
	}

	async load(): Promise<void> {
		this.#status = await this.api.totpStatus();
	}

	/** Asks the hub for a secret (after the password) and draws its QR code as an image. */
	async start(password: string): Promise<void> {
		const setup = await this.api.totpSetup({ authKey: await this.authKey(password) });
		const qr = await QRCode.toDataURL(setup.uri, { margin: 1, width: 220, errorCorrectionLevel: 'M' });
		this.#setup = { ...setup, qr };
		this.#stage = 'scan';
	}

	async confirm(code: string): Promise<void> {
		const { recoveryCodes } = await this.api.totpEnable({ code: code.trim() });
		this.#setup = null;
		this.#recoveryCodes = recoveryCodes;
		this.#stage = 'codes';
		await this.load();
	}

	/** Forgets the recovery codes shown: they are not shown again. */
	done(): void {
		this.#recoveryCodes = [];
		this.#setup = null;
		this.#stage = 'idle';
	}

	async disable(password: string, code: string): Promise<void> {
		await this.api.totpDisable({ authKey: await this.authKey(password), code: code.trim() });
		await this.load();
	}
}
