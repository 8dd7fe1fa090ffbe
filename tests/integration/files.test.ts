import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileIntegrityError, fileLayout } from '../../src/lib/crypto';
import { LIMITS, ROUTES, type FileBody } from '../../src/lib/protocol';
import {
	HubApi,
	deleteAccount,
	downloadFile,
	sendFile,
	uploadFile,
	type FileSource,
	type UploadState,
} from '../../src/lib/sdk';
import { openTestDb, type TestDb } from '../helpers/db';
import { startTestHub, type TestHub } from '../helpers/hub';
import { apiRefusal, newUser, refusal, uniqueName, waitForEvent, type TestClient } from '../helpers/users';

const DAY = 86_400_000;
const CHUNK = 16 * 1024;
const MAX_FILE = 2 * 1024 * 1024;
const QUOTA = 6 * 1024 * 1024;

let hub: TestHub;
let db: TestDb;
let alice: TestClient;
let bob: TestClient;
let eve: TestClient;

beforeAll(async () => {
	hub = await startTestHub({
		name: 'files',
		env: {
			FILE_MAX_BYTES: String(MAX_FILE),
			QUOTA_STORED_BYTES_PER_USER: String(QUOTA),
			RETENTION_DAYS: '7',
		},
	});
	db = await openTestDb(hub.mongoUri);
	[alice, bob, eve] = await Promise.all([
		newUser(hub.url, uniqueName('alice')),
		newUser(hub.url, uniqueName('bob')),
		newUser(hub.url, uniqueName('eve')),
	]);
});

afterAll(async () => {
	for (const client of [alice, bob, eve]) client?.close();
	await db?.close();
	await hub?.stop();
});

/** A file in memory, handed over in uneven pieces as a disk would. */
function sourceOf(data: Uint8Array, name = 'photo.jpg'): FileSource & { name: string; mime: string } {
	return {
		size: data.length,
		name,
		mime: 'image/jpeg',
		async *read() {
			for (let i = 0; i < data.length; i += 10_000) yield data.subarray(i, i + 10_000);
		},
	};
}

/** A sink that keeps what it is given. */
function memorySink() {
	const parts: Uint8Array[] = [];
	return {
		write(bytes: Uint8Array) {
			parts.push(bytes.slice());
		},
		bytes: () => Buffer.concat(parts),
	};
}

async function download(client: TestClient, file: FileBody): Promise<Buffer> {
	const sink = memorySink();
	await downloadFile(client.api, file, sink);
	return sink.bytes();
}

/**
 * `client`'s session through a fetch that notes each URL asked and breaks answer number `i` (from
 * 1) once `breakAfter(i)` bytes of it came (a TypeError, as a lost connection gives), or never
 * when that is null.
 */
function breakingApi(client: TestClient, breakAfter: (i: number) => number | null) {
	const asked: string[] = [];
	const api = new HubApi({
		baseUrl: hub.url,
		fetch: async (input, init) => {
			asked.push(String(input));
			const headers = {
				...(init?.headers as Record<string, string>),
				cookie: client.api.cookieHeader() ?? '',
			};
			const response = await fetch(input, { ...init, headers });
			const limit = breakAfter(asked.length);
			if (limit === null || !response.body) return response;
			const reader = response.body.getReader();
			let passed = 0;
			const broken = new ReadableStream<Uint8Array>({
				async pull(controller) {
					const { done, value } = await reader.read();
					if (done || passed >= limit) {
						await reader.cancel();
						controller.error(new TypeError('terminated'));
						return;
					}
					const take = value.subarray(0, limit - passed);
					passed += take.length;
					controller.enqueue(take);
				},
			});
			return new Response(broken, { status: response.status, headers: response.headers });
		},
	});
	return { api, asked };
}

/** A raw request with `client`'s session (or none), for inputs the SDK would never send. */
async function raw(
	client: TestClient | null,
	method: string,
	path: string,
	body?: Uint8Array | string,
	contentType = 'application/octet-stream',
): Promise<{ status: number; code: string | undefined }> {
	const headers: Record<string, string> = {};
	const cookie = client?.api.cookieHeader();
	if (cookie) headers.cookie = cookie;
	if (body !== undefined) headers['content-type'] = contentType;
	const response = await fetch(hub.url + path, { method, headers, body: body as BodyInit | undefined });
	const json = (await response.json().catch(() => ({}))) as { error?: { code?: string } };
	return { status: response.status, code: json.error?.code };
}

async function chunkCount(fileId: string): Promise<number> {
	return db.collection('file_chunks').countDocuments({ fileId });
}

/** The file went with its message: no chunk, no record, and neither alice nor bob may read it. */
async function expectFileGone(fileId: string): Promise<void> {
	expect(await chunkCount(fileId)).toBe(0);
	expect(await db.collection('files').countDocuments({ _id: fileId as never })).toBe(0);
	expect(await apiRefusal(bob.api.fileChunk(fileId, 0))).toMatchObject({ code: 'NOT_FOUND' });
	expect(await apiRefusal(alice.api.fileChunk(fileId, 0))).toMatchObject({ code: 'NOT_FOUND' });
}

describe('encrypted files', () => {
	it('uploads, sends and lets the recipient download the file, its hash checked', async () => {
		const data = randomBytes(CHUNK * 5 + 123);
		const progress: number[] = [];
		const sent = await sendFile(alice.messenger, bob.username, sourceOf(data), {
			chunkSize: CHUNK,
			onProgress: (p) => progress.push(p.doneBytes),
		});
		expect(sent.result.state).toBe('live');
		expect(sent.envelope.fileId).toBe(sent.file.fileId);
		expect(progress.at(-1)).toBe(fileLayout(data.length, CHUNK).ciphertextBytes);

		// The hub holds ciphertext only: neither the name nor the plaintext's bytes.
		const stored = await db.collection('file_chunks').find({ fileId: sent.file.fileId }).toArray();
		expect(stored).toHaveLength(6);
		const first = Buffer.from((stored.find((c) => c.n === 1)!.data as { buffer: Uint8Array }).buffer);
		expect(first.includes(data.subarray(CHUNK, CHUNK + 64))).toBe(false);
		const meta = await db.collection('files').findOne({ _id: sent.file.fileId as never });
		expect(JSON.stringify(meta)).not.toContain('photo.jpg');

		const page = await bob.messenger.sync(null);
		const message = page.messages.find((m) => m.id === sent.envelope.id);
		expect(message?.file).toMatchObject({ name: 'photo.jpg', size: data.length, mime: 'image/jpeg' });
		expect((await download(bob, message!.file!)).equals(data)).toBe(true);
		// The sender reads it back too (another of their devices would).
		expect((await download(alice, sent.file)).equals(data)).toBe(true);
	});

	it('sends an empty file and one of an exact multiple of the chunk size', async () => {
		for (const data of [Buffer.alloc(0), randomBytes(CHUNK * 3)]) {
			const sent = await sendFile(alice.messenger, bob.username, sourceOf(data), { chunkSize: CHUNK });
			expect((await download(bob, sent.file)).equals(data)).toBe(true);
		}
	});

	it('refuses the file to a third user and to unknown ids with the same NOT_FOUND', async () => {
		const sent = await sendFile(alice.messenger, bob.username, sourceOf(randomBytes(CHUNK * 2)), {
			chunkSize: CHUNK,
		});
		const id = sent.file.fileId;
		const unknown = randomBytes(16).toString('base64url');
		for (const fileId of [id, unknown]) {
			expect(await apiRefusal(eve.api.fileChunk(fileId, 0))).toEqual({ code: 'NOT_FOUND', status: 404 });
			expect(await apiRefusal(eve.api.fileContent(fileId))).toEqual({ code: 'NOT_FOUND', status: 404 });
			expect(await apiRefusal(eve.api.fileStatus(fileId))).toEqual({ code: 'NOT_FOUND', status: 404 });
			expect(await apiRefusal(eve.api.putFileChunk(fileId, 0, new Uint8Array(10)))).toEqual({
				code: 'NOT_FOUND',
				status: 404,
			});
			expect(await apiRefusal(eve.api.finishFile(fileId))).toEqual({ code: 'NOT_FOUND', status: 404 });
		}
		// Nor can another sender put it in an envelope of their own.
		const theft = await eve.messenger.sealBody(bob.username, sent.file, { fileId: id });
		expect(await refusal(eve.messenger.sendEnvelope(theft))).toBe('NOT_FOUND');
		// The recipient may read it, but not change or list it.
		expect(await apiRefusal(bob.api.putFileChunk(id, 0, new Uint8Array(10)))).toMatchObject({
			code: 'NOT_FOUND',
		});
		expect(await apiRefusal(bob.api.fileStatus(id))).toMatchObject({ code: 'NOT_FOUND' });
	});

	it('resumes an upload after a hub restart mid-way, sending only the missing chunks', async () => {
		const data = randomBytes(CHUNK * 12);
		const controller = new AbortController();
		let state: UploadState | null = null;
		const interrupted = uploadFile(alice.api, sourceOf(data), {
			chunkSize: CHUNK,
			concurrency: 1,
			signal: controller.signal,
			onState: (s) => {
				state = s;
			},
			onProgress: (p) => {
				if (p.doneBytes >= CHUNK * 4) controller.abort(new Error('the page was reloaded'));
			},
		});
		await expect(interrupted).rejects.toThrow('the page was reloaded');
		expect(state).not.toBeNull();
		const resume = state as unknown as UploadState;
		await hub.restart();

		const before = await alice.api.fileStatus(resume.fileId);
		expect(before.finished).toBe(false);
		const held = before.received.reduce((n, [a, b]) => n + b - a, 0);
		expect(held).toBeGreaterThanOrEqual(4);
		expect(held).toBeLessThan(12);

		// Alice's session, through a fetch that notes each chunk sent.
		const resent: number[] = [];
		const counting = new HubApi({
			baseUrl: hub.url,
			fetch: (input, init) => {
				const chunk = /\/chunks\/(\d+)$/.exec(String(input));
				if (init?.method === 'PUT' && chunk) resent.push(Number(chunk[1]));
				const headers = {
					...(init?.headers as Record<string, string>),
					cookie: alice.api.cookieHeader() ?? '',
				};
				return fetch(input, { ...init, headers });
			},
		});
		const uploaded = await uploadFile(counting, sourceOf(data), { resume });
		expect(resent.length).toBe(12 - held);
		expect(resent.every((n) => !before.received.some(([a, b]) => n >= a && n < b))).toBe(true);

		const body: FileBody = {
			type: 'file',
			fileId: uploaded.fileId,
			key: resume.key,
			name: 'resumed.bin',
			mime: 'application/octet-stream',
			size: uploaded.size,
			chunkSize: uploaded.chunkSize,
			hash: Buffer.from(uploaded.hash).toString('base64url'),
		};
		const envelope = await alice.messenger.sealBody(bob.username, body, { fileId: uploaded.fileId });
		await alice.messenger.sendEnvelope(envelope);
		expect((await download(bob, body)).equals(data)).toBe(true);
	});

	it('picks a download up at the next chunk when the connection breaks mid-way', async () => {
		const data = randomBytes(CHUNK * 6);
		const sent = await sendFile(alice.messenger, bob.username, sourceOf(data), { chunkSize: CHUNK });
		// Bob's session, through a fetch whose first download breaks after two and a half chunks.
		const { api: flaky, asked } = breakingApi(bob, (i) => (i === 1 ? CHUNK * 2.5 : null));
		const sink = memorySink();
		await downloadFile(flaky, sent.file, sink);
		expect(sink.bytes().equals(data)).toBe(true);
		expect(asked).toHaveLength(2);
		expect(asked[1]).toMatch(/\/content\?from=[1-5]$/);
	});

	it('stops a hub without waiting for a download a slow device holds open; the download goes on from the next chunk', async () => {
		// Larger than every buffer on the way (the sockets', the fetch's): the hub is still writing.
		// On a hub of its own, whose limits let such a file through.
		const own = await startTestHub({
			name: 'files_drain',
			env: { FILE_MAX_BYTES: String(64 * 1024 * 1024) },
		});
		const [sender, reader] = await Promise.all([
			newUser(own.url, uniqueName('sender')),
			newUser(own.url, uniqueName('reader')),
		]);
		try {
			const big = 256 * 1024;
			const data = randomBytes(big * 96);
			const sent = await sendFile(sender.messenger, reader.username, sourceOf(data), { chunkSize: big });
			const asked: string[] = [];
			const counting = new HubApi({
				baseUrl: own.url,
				fetch: (input, init) => {
					asked.push(new URL(String(input)).search);
					const headers = {
						...(init?.headers as Record<string, string>),
						cookie: reader.api.cookieHeader() ?? '',
					};
					return fetch(input, { ...init, headers });
				},
			});
			// A device that takes the first chunk, then reads nothing more until the hub has restarted.
			let firstChunk!: () => void;
			const gotFirst = new Promise<void>((resolve) => (firstChunk = resolve));
			let restarted!: () => void;
			const back = new Promise<void>((resolve) => (restarted = resolve));
			const parts: Buffer[] = [];
			const waits: number[] = [];
			const downloading = downloadFile(
				counting,
				sent.file,
				{
					async write(bytes) {
						parts.push(Buffer.from(bytes));
						if (parts.length === 1) {
							firstChunk();
							await back;
						}
					},
				},
				{ onRetry: (waitMs) => waits.push(waitMs) },
			);
			await gotFirst;
			// Without a bound on the drain, this waits for a reader that never reads: the test times out.
			await own.restart();
			restarted();
			await downloading;
			expect(Buffer.concat(parts).equals(data)).toBe(true);
			expect(waits.length).toBeGreaterThan(0);
			expect(asked[0]).toBe('');
			expect(asked.slice(1).every((search) => /^\?from=([1-9]\d*)$/.test(search))).toBe(true);
			expect(asked.length).toBeGreaterThanOrEqual(2);
		} finally {
			sender.close();
			reader.close();
			await own.stop();
		}
	});

	it('counts its retries per break: a connection that breaks after every chunk still finishes, one that never answers gives up', async () => {
		const data = randomBytes(CHUNK * 5);
		const sent = await sendFile(alice.messenger, bob.username, sourceOf(data), { chunkSize: CHUNK });
		const chunkBytes = fileLayout(data.length, CHUNK).chunkBytes(0);
		// Each answer breaks right after one whole chunk: five breaks for five chunks, one retry allowed.
		const { api: breaking, asked } = breakingApi(bob, () => chunkBytes);
		const waits: number[] = [];
		const sink = memorySink();
		await downloadFile(breaking, sent.file, sink, { retries: 1, onRetry: (waitMs) => waits.push(waitMs) });
		expect(sink.bytes().equals(data)).toBe(true);
		expect(asked.map((url) => new URL(url).search)).toEqual(['', '?from=1', '?from=2', '?from=3', '?from=4']);
		// The pause starts again from its first length after each chunk that came.
		expect(waits).toEqual([500, 500, 500, 500]);

		// A hub that never answers: the first wait, then twice as long, then the error.
		const away = new HubApi({
			baseUrl: hub.url,
			fetch: () => Promise.reject(new TypeError('fetch failed')),
		});
		const tries: number[] = [];
		await expect(
			downloadFile(away, sent.file, memorySink(), { retries: 2, onRetry: (waitMs) => tries.push(waitMs) }),
		).rejects.toThrow('fetch failed');
		expect(tries).toEqual([500, 1000]);
	});

	it('resumes a download from the chunks it kept: only the rest is fetched, and the hash covers it all', async () => {
		const data = randomBytes(CHUNK * 8 + 123);
		const sent = await sendFile(alice.messenger, bob.username, sourceOf(data), { chunkSize: CHUNK });
		// A first attempt that stops (a reload) after three chunks were kept.
		const kept: Uint8Array[] = [];
		await expect(
			downloadFile(bob.api, sent.file, memorySink(), {
				onChunk: (n, chunk) => {
					if (n === 3) throw new Error('reload');
					kept[n] = new Uint8Array(chunk);
				},
			}),
		).rejects.toThrow('reload');
		expect(kept).toHaveLength(3);
		const asked: string[] = [];
		const counting = new HubApi({
			baseUrl: hub.url,
			fetch: (input, init) => {
				asked.push(String(input));
				const headers = {
					...(init?.headers as Record<string, string>),
					cookie: bob.api.cookieHeader() ?? '',
				};
				return fetch(input, { ...init, headers });
			},
		});
		const fresh: number[] = [];
		const sink = memorySink();
		await downloadFile(counting, sent.file, sink, {
			kept: (async function* () {
				yield* kept;
			})(),
			onChunk: (n) => void fresh.push(n),
		});
		expect(sink.bytes().equals(data)).toBe(true);
		expect(asked).toEqual([`${hub.url}${ROUTES.fileContent(sent.file.fileId, 3)}`]);
		expect(fresh).toEqual([3, 4, 5, 6, 7, 8]);

		// A kept chunk altered on the device is refused, like one altered on the hub.
		const altered = kept.map((chunk) => new Uint8Array(chunk));
		altered[1]![40]! ^= 1;
		await expect(
			downloadFile(bob.api, sent.file, memorySink(), {
				kept: (async function* () {
					yield* altered;
				})(),
			}),
		).rejects.toBeInstanceOf(FileIntegrityError);
		// So is a kept chunk dropped: the next one does not open in its place.
		await expect(
			downloadFile(bob.api, sent.file, memorySink(), {
				kept: (async function* () {
					yield kept[0]!;
					yield kept[2]!;
				})(),
			}),
		).rejects.toBeInstanceOf(FileIntegrityError);
	});

	it('holds a time-locked file from the recipient, every chunk, until the release', async () => {
		const data = randomBytes(CHUNK * 2);
		const unlockAt = Date.now() + 3_000;
		const released = waitForEvent(
			bob.socket,
			'message:new',
			(e) => e.unlockAt === unlockAt && e.state === 'released',
			20_000,
		);
		const sent = await sendFile(alice.messenger, bob.username, sourceOf(data), {
			chunkSize: CHUNK,
			unlockAt,
			announce: true,
		});
		expect(sent.result.state).toBe('locked');
		const id = sent.file.fileId;
		expect(await apiRefusal(bob.api.fileChunk(id, 0))).toEqual({ code: 'NOT_FOUND', status: 404 });
		expect(await apiRefusal(bob.api.fileChunk(id, 1))).toEqual({ code: 'NOT_FOUND', status: 404 });
		expect(await apiRefusal(bob.api.fileContent(id))).toEqual({ code: 'NOT_FOUND', status: 404 });
		// The sender still reads it.
		expect((await download(alice, sent.file)).equals(data)).toBe(true);

		const envelope = await released;
		const opened = await bob.messenger.open(envelope);
		expect(opened.file?.fileId).toBe(id);
		expect((await download(bob, opened.file!)).equals(data)).toBe(true);
	});

	it('deletes the chunks with their envelope when the retention sweep purges it', async () => {
		const sent = await sendFile(alice.messenger, bob.username, sourceOf(randomBytes(CHUNK * 3)), {
			chunkSize: CHUNK,
		});
		const id = sent.file.fileId;
		await bob.messenger.receipt([sent.envelope.id]);
		expect(await chunkCount(id)).toBe(3);
		await db
			.collection('receipts')
			.updateOne({ _id: sent.envelope.id as never }, { $set: { at: Date.now() - 8 * DAY } });

		const report = await hub.hub.services.maintenance.sweep();
		expect(report.filesPurged).toBeGreaterThanOrEqual(1);
		await expectFileGone(id);
		expect(await db.collection('file_parts').countDocuments({ fileId: id })).toBe(0);
	});

	it('deletes the chunks when the sender deletes the file message for everyone', async () => {
		const sent = await sendFile(alice.messenger, bob.username, sourceOf(randomBytes(CHUNK * 2)), {
			chunkSize: CHUNK,
		});
		const id = sent.file.fileId;
		expect(await download(bob, sent.file)).toHaveLength(CHUNK * 2);
		expect(await chunkCount(id)).toBe(2);
		await alice.messenger.deleteForEveryone(sent.envelope.id);
		await expectFileGone(id);
	});

	it('deletes the chunks of a disappearing file message once its timer ran out after delivery', async () => {
		const sent = await sendFile(alice.messenger, bob.username, sourceOf(randomBytes(CHUNK * 2)), {
			chunkSize: CHUNK,
			expiresAfterMs: 60_000,
		});
		const id = sent.file.fileId;
		// Not delivered yet: no timer runs, the sweep keeps it.
		await hub.hub.services.maintenance.sweep();
		expect(await chunkCount(id)).toBe(2);
		await bob.messenger.receipt([sent.envelope.id]);
		await hub.hub.services.maintenance.sweep();
		expect(await chunkCount(id)).toBe(2);
		// The minute since the first delivery has passed.
		await db
			.collection('expiries')
			.updateOne({ _id: sent.envelope.id as never }, { $set: { at: Date.now() - 1 } });
		const report = await hub.hub.services.maintenance.sweep();
		expect(report.filesPurged).toBeGreaterThanOrEqual(1);
		expect(await chunkCount(id)).toBe(0);
		expect(await apiRefusal(bob.api.fileChunk(id, 0))).toMatchObject({ code: 'NOT_FOUND' });
	});

	it('sweeps an upload that no envelope referenced in time, and keeps a recent one', async () => {
		const old = await uploadFile(alice.api, sourceOf(randomBytes(CHUNK)), { chunkSize: CHUNK });
		const recent = await uploadFile(alice.api, sourceOf(randomBytes(CHUNK)), { chunkSize: CHUNK });
		await db
			.collection('files')
			.updateOne({ _id: old.fileId as never }, { $set: { createdAt: Date.now() - 2 * DAY } });
		await hub.hub.services.maintenance.sweep();
		expect(await chunkCount(old.fileId)).toBe(0);
		expect(await apiRefusal(alice.api.fileStatus(old.fileId))).toMatchObject({ code: 'NOT_FOUND' });
		expect((await alice.api.fileStatus(recent.fileId)).finished).toBe(true);
	});

	it('deletes with an account the files sent to it and its unsent uploads, and keeps what it delivered', async () => {
		const [dana, fred] = await Promise.all([
			newUser(hub.url, uniqueName('dana')),
			newUser(hub.url, uniqueName('fred')),
		]);
		try {
			const toDana = await sendFile(alice.messenger, dana.username, sourceOf(randomBytes(CHUNK)), {
				chunkSize: CHUNK,
			});
			const fromDana = await sendFile(dana.messenger, fred.username, sourceOf(randomBytes(CHUNK)), {
				chunkSize: CHUNK,
			});
			const unsent = await uploadFile(dana.api, sourceOf(randomBytes(CHUNK)), { chunkSize: CHUNK });
			await deleteAccount(dana.api, dana.username, dana.password);
			expect(await chunkCount(toDana.file.fileId)).toBe(0);
			expect(await chunkCount(unsent.fileId)).toBe(0);
			// Fred's message, and so its file, are his now.
			expect((await download(fred, fromDana.file)).length).toBe(CHUNK);
		} finally {
			dana.close();
			fred.close();
		}
	});

	it('refuses a file over the size limit and one over the stored-bytes quota, storing nothing', async () => {
		const carol = await newUser(hub.url, uniqueName('carol'));
		try {
			const tooBig = await apiRefusal(
				carol.api.createFile({ size: MAX_FILE + 1, chunks: 3, chunkBytes: LIMITS.fileChunkMaxBytes }),
			);
			expect(tooBig).toEqual({ code: 'PAYLOAD_TOO_LARGE', status: 413 });
			const share = 1024 * 1024;
			const chunkBytes = LIMITS.fileChunkMaxBytes;
			for (let i = 0; i < QUOTA / share - 1; i++)
				await carol.api.createFile({ size: share, chunks: 1, chunkBytes });
			const over = await apiRefusal(carol.api.createFile({ size: share + 1, chunks: 2, chunkBytes }));
			expect(over).toEqual({ code: 'QUOTA_STORAGE', status: 403 });
			expect(await db.collection('files').countDocuments({ owner: carol.username })).toBe(QUOTA / share - 1);
		} finally {
			carol.close();
		}
	});

	it('detects a chunk altered on the hub and refuses the file', async () => {
		const sent = await sendFile(alice.messenger, bob.username, sourceOf(randomBytes(CHUNK * 2)), {
			chunkSize: CHUNK,
		});
		const id = `${sent.file.fileId}:1`;
		const doc = await db.collection('file_chunks').findOne({ _id: id as never });
		const bytes = Buffer.from((doc!.data as { buffer: Uint8Array }).buffer);
		bytes[40] ^= 1;
		await db.collection('file_chunks').updateOne({ _id: id as never }, { $set: { data: bytes } });
		const sink = memorySink();
		await expect(downloadFile(bob.api, sent.file, sink)).rejects.toBeInstanceOf(FileIntegrityError);
	});
});

describe('file routes refuse bad input, changing nothing', () => {
	let fileId: string;

	beforeAll(async () => {
		fileId = (await alice.api.createFile({ size: 100, chunks: 2, chunkBytes: 60 })).fileId;
	});

	it('refuses every route without a session', async () => {
		const routes: [string, string, Uint8Array | string | undefined, string?][] = [
			['POST', ROUTES.files, JSON.stringify({ size: 10, chunks: 1, chunkBytes: 10 }), 'application/json'],
			['GET', ROUTES.file(fileId), undefined],
			['PUT', ROUTES.fileChunk(fileId, 0), new Uint8Array(10)],
			['POST', ROUTES.fileFinish(fileId), '{}', 'application/json'],
			['GET', ROUTES.fileChunk(fileId, 0), undefined],
			['GET', ROUTES.fileContent(fileId), undefined],
		];
		for (const [method, path, body, type] of routes) {
			expect(await raw(null, method, path, body, type)).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
		}
		expect(await chunkCount(fileId)).toBe(0);
	});

	it('refuses malformed ids and chunk indexes out of range', async () => {
		for (const bad of ['abc', '..%2F..%2Fetc', 'A'.repeat(23), `${fileId.slice(0, 21)}*`]) {
			expect(await raw(alice, 'GET', `/api/files/${bad}`)).toEqual({ status: 400, code: 'BAD_REQUEST' });
			expect(await raw(alice, 'PUT', `/api/files/${bad}/chunks/0`, new Uint8Array(5))).toEqual({
				status: 400,
				code: 'BAD_REQUEST',
			});
		}
		for (const n of ['-1', '1.5', 'x', String(LIMITS.fileChunksMax)]) {
			expect(await raw(alice, 'PUT', `/api/files/${fileId}/chunks/${n}`, new Uint8Array(5))).toEqual({
				status: 400,
				code: 'BAD_REQUEST',
			});
		}
		// Within the protocol's range but past this file's chunks.
		expect(await raw(alice, 'PUT', ROUTES.fileChunk(fileId, 2), new Uint8Array(5))).toEqual({
			status: 400,
			code: 'BAD_REQUEST',
		});
		expect(await raw(alice, 'GET', `${ROUTES.fileContent(fileId)}?from=x`)).toEqual({
			status: 400,
			code: 'BAD_REQUEST',
		});
		expect(await chunkCount(fileId)).toBe(0);
	});

	it('refuses chunks too large, empty or not raw bytes', async () => {
		expect(await raw(alice, 'PUT', ROUTES.fileChunk(fileId, 0), new Uint8Array(61))).toEqual({
			status: 413,
			code: 'PAYLOAD_TOO_LARGE',
		});
		expect(
			await raw(alice, 'PUT', ROUTES.fileChunk(fileId, 0), new Uint8Array(LIMITS.fileChunkMaxBytes + 1)),
		).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
		expect(await raw(alice, 'PUT', ROUTES.fileChunk(fileId, 0), new Uint8Array(0))).toEqual({
			status: 400,
			code: 'BAD_REQUEST',
		});
		expect(await raw(alice, 'PUT', ROUTES.fileChunk(fileId, 0), '{"a":1}', 'application/json')).toEqual({
			status: 400,
			code: 'BAD_REQUEST',
		});
		expect(await chunkCount(fileId)).toBe(0);
	});

	it('refuses malformed uploads', async () => {
		const bodies = [
			{},
			{ size: 0, chunks: 1, chunkBytes: 10 },
			{ size: 10, chunks: 11, chunkBytes: 10 },
			{ size: 100, chunks: 2, chunkBytes: 10 },
			{ size: 10, chunks: 1, chunkBytes: LIMITS.fileChunkMaxBytes + 1 },
			{ size: 10, chunks: LIMITS.fileChunksMax + 1, chunkBytes: 10 },
			{ size: 10, chunks: 1, chunkBytes: 10, owner: bob.username },
			{ size: '10', chunks: 1, chunkBytes: 10 },
		];
		const before = await db.collection('files').countDocuments({ owner: alice.username });
		for (const body of bodies) {
			expect(await raw(alice, 'POST', ROUTES.files, JSON.stringify(body), 'application/json')).toEqual({
				status: 400,
				code: 'BAD_REQUEST',
			});
		}
		// Chunks far larger than the file they add up to.
		expect(
			await raw(
				alice,
				'POST',
				ROUTES.files,
				JSON.stringify({ size: 1000, chunks: 500, chunkBytes: 100_000 }),
				'application/json',
			),
		).toEqual({ status: 400, code: 'BAD_REQUEST' });
		expect(await db.collection('files').countDocuments({ owner: alice.username })).toBe(before);
	});

	it('finishes only a whole upload, sends only a finished file, and a file in one message only', async () => {
		expect(await apiRefusal(alice.api.finishFile(fileId))).toEqual({ code: 'FILE_INCOMPLETE', status: 409 });
		await alice.api.putFileChunk(fileId, 0, new Uint8Array(60));
		// A resend of the same chunk is fine; another one under its index is not.
		await alice.api.putFileChunk(fileId, 0, new Uint8Array(60));
		expect(await apiRefusal(alice.api.putFileChunk(fileId, 0, new Uint8Array(50)))).toMatchObject({
			code: 'ID_CONFLICT',
		});
		expect((await alice.api.fileStatus(fileId)).received).toEqual([[0, 1]]);
		await alice.api.putFileChunk(fileId, 1, new Uint8Array(30));
		// 90 bytes of the 100 declared.
		expect(await apiRefusal(alice.api.finishFile(fileId))).toEqual({ code: 'FILE_INCOMPLETE', status: 409 });

		const unfinished = await uploadFile(alice.api, sourceOf(randomBytes(CHUNK)), { chunkSize: CHUNK });
		const body: FileBody = {
			type: 'file',
			fileId: unfinished.fileId,
			key: Buffer.from(unfinished.key).toString('base64url'),
			name: 'a.bin',
			mime: '',
			size: unfinished.size,
			chunkSize: CHUNK,
			hash: Buffer.from(unfinished.hash).toString('base64url'),
		};
		const first = await alice.messenger.sealBody(bob.username, body, { fileId: unfinished.fileId });
		await alice.messenger.sendEnvelope(first);
		// The same envelope again is a resend; another envelope with the same file is refused.
		expect((await alice.messenger.sendEnvelope(first)).duplicate).toBe(true);
		const second = await alice.messenger.sealBody(eve.username, body, { fileId: unfinished.fileId });
		expect(await refusal(alice.messenger.sendEnvelope(second))).toBe('ID_CONFLICT');
		expect(await apiRefusal(eve.api.fileChunk(unfinished.fileId, 0))).toMatchObject({ code: 'NOT_FOUND' });

		const open = await alice.messenger.sealBody(bob.username, body, { fileId });
		expect(await refusal(alice.messenger.sendEnvelope(open))).toBe('FILE_INCOMPLETE');
	});
});
