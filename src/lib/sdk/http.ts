import type { z } from 'zod';
import {
	COOKIE_NAMES,
	Contact,
	ContactListResponse,
	ContactRemoveResponse,
	DeclineResponse,
	type ContactState,
	ERROR_CODES,
	ClientConfig,
	HealthResponse,
	LoginResponse,
	PasswordChangeResponse,
	PreloginResponse,
	ROUTES,
	RevokeSessionsResponse,
	SessionListResponse,
	ActivityResponse,
	SessionView,
	TimeResponse,
	TotpEnableResponse,
	TotpSetupResponse,
	TotpStatus,
	isCookieNamed,
	FILE_CONTENT_TYPE,
	FileStatus,
	UserKeysResponse,
	type AccountDeleteRequest,
	type FileCreateRequest,
	type LoginRequest,
	type LoginTotpRequest,
	type PasswordChangeRequest,
	type RegisterRequest,
	type TotpDisableRequest,
	type TotpEnableRequest,
	type TotpSetupRequest,
	PushKeyResponse,
	PushStateResponse,
	type PushSubscribeRequest,
} from '../protocol';
import { ApiError } from './errors';

export interface HubApiOptions {
	/** The hub's origin, e.g. `http://127.0.0.1:3000`; empty in the browser (same origin). */
	baseUrl: string;
	fetch?: typeof fetch;
	/** Outside a browser: remember the hub's cookies (session, device token) in memory and send them back. */
	keepCookies?: boolean;
	/** Outside a browser: an Origin header to send (tests use it to play a foreign page). */
	origin?: string;
}

/** The hub's REST API: every route of `ROUTES`, its body checked against the shared schema. */
export class HubApi {
	readonly baseUrl: string;
	#fetch: typeof fetch;
	#keepCookies: boolean;
	#origin: string | undefined;
	#cookies = new Map<string, string>();

	constructor(options: HubApiOptions) {
		this.baseUrl = options.baseUrl.replace(/\/+$/, '');
		this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
		this.#keepCookies = options.keepCookies ?? false;
		this.#origin = options.origin;
	}

	/** The cookies this client holds, as a Cookie header (for the socket handshake outside a browser). */
	cookieHeader(): string | undefined {
		if (this.#cookies.size === 0) return undefined;
		return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
	}

	prelogin(username: string): Promise<PreloginResponse> {
		return this.#request('POST', ROUTES.prelogin, PreloginResponse, { username });
	}

	register(request: RegisterRequest): Promise<LoginResponse> {
		return this.#request('POST', ROUTES.register, LoginResponse, request);
	}

	login(request: LoginRequest): Promise<LoginResponse> {
		return this.#request('POST', ROUTES.login, LoginResponse, request);
	}

	/** The second sign-in step, with the ticket of a `TOTP_REQUIRED` refusal. */
	loginTotp(request: LoginTotpRequest): Promise<LoginResponse> {
		return this.#request('POST', ROUTES.loginTotp, LoginResponse, request);
	}

	totpStatus(): Promise<TotpStatus> {
		return this.#request('GET', ROUTES.totp, TotpStatus);
	}

	totpSetup(request: TotpSetupRequest): Promise<TotpSetupResponse> {
		return this.#request('POST', ROUTES.totpSetup, TotpSetupResponse, request);
	}

	totpEnable(request: TotpEnableRequest): Promise<TotpEnableResponse> {
		return this.#request('POST', ROUTES.totpEnable, TotpEnableResponse, request);
	}

	async totpDisable(request: TotpDisableRequest): Promise<void> {
		await this.#request('POST', ROUTES.totpDisable, null, request);
	}

	/** Ends the session; the device cookie stays, as a browser keeps it, so this device stays known. */
	async logout(): Promise<void> {
		await this.#request('POST', ROUTES.logout, null, {});
		for (const name of this.#cookies.keys()) {
			if (isCookieNamed(name, COOKIE_NAMES.session)) this.#cookies.delete(name);
		}
	}

	changePassword(request: PasswordChangeRequest): Promise<PasswordChangeResponse> {
		return this.#request('POST', ROUTES.password, PasswordChangeResponse, request);
	}

	/** Deletes the signed-in account; the session cookie goes with it. */
	async deleteAccount(request: AccountDeleteRequest): Promise<void> {
		await this.#request('POST', ROUTES.accountDelete, null, request);
		for (const name of this.#cookies.keys()) {
			if (isCookieNamed(name, COOKIE_NAMES.session)) this.#cookies.delete(name);
		}
	}

	session(): Promise<SessionView> {
		return this.#request('GET', ROUTES.session, SessionView);
	}

	/** The hub's VAPID public key (the `applicationServerKey` of a Web Push subscription). */
	pushKey(): Promise<PushKeyResponse> {
		return this.#request('GET', ROUTES.pushKey, PushKeyResponse);
	}

	/** Whether this device gets Web Push when it has no connection open. */
	pushState(): Promise<PushStateResponse> {
		return this.#request('GET', ROUTES.pushSubscription, PushStateResponse);
	}

	/** Gives the hub this device's push subscription (`PushSubscription.toJSON()`), replacing any earlier one. */
	subscribePush(subscription: PushSubscribeRequest): Promise<PushStateResponse> {
		return this.#request('PUT', ROUTES.pushSubscription, PushStateResponse, subscription);
	}

	unsubscribePush(): Promise<PushStateResponse> {
		return this.#request('DELETE', ROUTES.pushSubscription, PushStateResponse);
	}

	/** This user's signed-in devices (sessions), the current one marked. */
	sessions(): Promise<SessionListResponse> {
		return this.#request('GET', ROUTES.sessions, SessionListResponse);
	}

	/** Signs one device out by its session id (this one included), or with `'others'` every other one. */
	revokeSessions(target: { id: string } | 'others'): Promise<RevokeSessionsResponse> {
		const body = target === 'others' ? { others: true } : { id: target.id };
		return this.#request('POST', ROUTES.revokeSessions, RevokeSessionsResponse, body);
	}

	/** A page of this account's activity log, newest first; `before` is the last id of the page before. */
	activity(query: { before?: string; limit?: number } = {}): Promise<ActivityResponse> {
		const params = new URLSearchParams();
		if (query.before !== undefined) params.set('before', query.before);
		if (query.limit !== undefined) params.set('limit', String(query.limit));
		const search = params.size > 0 ? `?${params.toString()}` : '';
		return this.#request('GET', `${ROUTES.activity}${search}`, ActivityResponse);
	}

	/** Starts an upload of `size` ciphertext bytes in `chunks` chunks (docs/PROTOCOL.md, "Files"). */
	createFile(request: FileCreateRequest): Promise<FileStatus> {
		return this.#request('POST', ROUTES.files, FileStatus, request);
	}

	/** What the hub holds of one of this user's uploads. */
	fileStatus(fileId: string): Promise<FileStatus> {
		return this.#request('GET', ROUTES.file(fileId), FileStatus);
	}

	async putFileChunk(fileId: string, n: number, data: Uint8Array, signal?: AbortSignal): Promise<void> {
		await this.#raw('PUT', ROUTES.fileChunk(fileId, n), { body: data, signal });
	}

	finishFile(fileId: string): Promise<FileStatus> {
		return this.#request('POST', ROUTES.fileFinish(fileId), FileStatus, {});
	}

	/** One ciphertext chunk of a file this user may read. */
	async fileChunk(fileId: string, n: number, signal?: AbortSignal): Promise<Uint8Array> {
		const response = await this.#raw('GET', ROUTES.fileChunk(fileId, n), { signal });
		return new Uint8Array(await response.arrayBuffer());
	}

	/** The file's ciphertext from chunk `from` to its end, as a stream of bytes. */
	async fileContent(fileId: string, from = 0, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
		const response = await this.#raw('GET', ROUTES.fileContent(fileId, from), { signal });
		if (!response.body) throw new ApiError('INTERNAL', 'The hub sent no file content.', response.status);
		return response.body;
	}

	userKeys(username: string): Promise<UserKeysResponse> {
		return this.#request('GET', ROUTES.userKeys(username.toLowerCase()), UserKeysResponse);
	}

	/** The signed-in user's contacts and blocks. */
	contacts(): Promise<ContactListResponse> {
		return this.#request('GET', ROUTES.contacts, ContactListResponse);
	}

	/** Adds or accepts (`accepted`) or blocks (`blocked`) someone. */
	setContact(username: string, state: ContactState): Promise<Contact> {
		return this.#request('PUT', ROUTES.contact(username.toLowerCase()), Contact, { state });
	}

	/** Removes a contact or lifts a block. */
	removeContact(username: string): Promise<ContactRemoveResponse> {
		return this.#request('DELETE', ROUTES.contact(username.toLowerCase()), ContactRemoveResponse);
	}

	/** Declines someone's message request: the hub deletes what they left stored for this user. */
	declineRequest(username: string): Promise<DeclineResponse> {
		return this.#request('POST', ROUTES.contactDecline(username.toLowerCase()), DeclineResponse, {});
	}

	health(): Promise<HealthResponse> {
		return this.#request('GET', ROUTES.health, HealthResponse);
	}

	time(): Promise<TimeResponse> {
		return this.#request('GET', ROUTES.time, TimeResponse);
	}

	/** The hub's delete window and disappearing timers. */
	clientConfig(): Promise<ClientConfig> {
		return this.#request('GET', ROUTES.clientConfig, ClientConfig);
	}

	async #request<T>(
		method: 'GET' | 'POST' | 'PUT' | 'DELETE',
		path: string,
		schema: z.ZodType<T> | null,
		body?: unknown,
	): Promise<T> {
		const headers: Record<string, string> = { accept: 'application/json' };
		if (body !== undefined) headers['content-type'] = 'application/json';
		const cookie = this.cookieHeader();
		if (cookie) headers.cookie = cookie;
		if (this.#origin) headers.origin = this.#origin;
		let response: Response;
		try {
			response = await this.#fetch(this.baseUrl + path, {
				method,
				headers,
				body: body === undefined ? undefined : JSON.stringify(body),
				credentials: 'same-origin',
			});
		} catch (error) {
			throw new ApiError('UNAVAILABLE', `The hub cannot be reached (${(error as Error).message}).`, 0);
		}
		if (this.#keepCookies) this.#remember(response);
		const text = await response.text();
		let json: unknown = undefined;
		try {
			json = text ? JSON.parse(text) : undefined;
		} catch {
			// A proxy's HTML error page: fall through to the generic error below.
		}
		if (!response.ok) throw toApiError(response.status, json, response.headers.get('retry-after'));
		if (schema === null) return undefined as T;
		const parsed = schema.safeParse(json);
		if (!parsed.success) {
			throw new ApiError(
				'INTERNAL',
				`The hub's reply to ${path} does not match the protocol.`,
				response.status,
			);
		}
		return parsed.data;
	}

	/** A request whose body or reply is raw bytes (file chunks). An abort is rethrown as it is. */
	async #raw(
		method: 'GET' | 'PUT',
		path: string,
		options: { body?: Uint8Array; signal?: AbortSignal },
	): Promise<Response> {
		const headers: Record<string, string> = { accept: `${FILE_CONTENT_TYPE}, application/json` };
		if (options.body) headers['content-type'] = FILE_CONTENT_TYPE;
		const cookie = this.cookieHeader();
		if (cookie) headers.cookie = cookie;
		if (this.#origin) headers.origin = this.#origin;
		let response: Response;
		try {
			response = await this.#fetch(this.baseUrl + path, {
				method,
				headers,
				body: options.body as BodyInit | undefined,
				credentials: 'same-origin',
				signal: options.signal,
			});
		} catch (error) {
			if (options.signal?.aborted) throw options.signal.reason;
			throw new ApiError('UNAVAILABLE', `The hub cannot be reached (${(error as Error).message}).`, 0);
		}
		if (this.#keepCookies) this.#remember(response);
		if (response.ok) return response;
		const text = await response.text();
		let json: unknown = undefined;
		try {
			json = text ? JSON.parse(text) : undefined;
		} catch {
			// Not the hub's JSON: the generic error below.
		}
		throw toApiError(response.status, json, response.headers.get('retry-after'));
	}

	#remember(response: Response): void {
		for (const line of response.headers.getSetCookie()) {
			const [pair, ...attributes] = line.split(';');
			const eq = pair.indexOf('=');
			if (eq <= 0) continue;
			const name = pair.slice(0, eq).trim();
			const value = pair.slice(eq + 1).trim();
			const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
			if (expired) this.#cookies.delete(name);
			else this.#cookies.set(name, value);
		}
	}
}

function toApiError(status: number, json: unknown, retryAfterHeader: string | null): ApiError {
	const error = (
		json as
			{ error?: { code?: unknown; message?: unknown; retryAfter?: unknown; ticket?: unknown } } | undefined
	)?.error;
	const code = ERROR_CODES.find((c) => c === error?.code) ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
	const message = typeof error?.message === 'string' ? error.message : `The hub answered ${status}.`;
	const retryAfter = Number(error?.retryAfter ?? retryAfterHeader ?? Number.NaN);
	return new ApiError(
		code,
		message,
		status,
		Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
		typeof error?.ticket === 'string' ? error.ticket : null,
	);
}
