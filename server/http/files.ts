import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import {
	FILE_CONTENT_TYPE,
	FileChunkParams,
	FileContentQuery,
	FileCreateRequest,
	FileParams,
	LIMITS,
	ProtocolError,
	ROUTES,
	type FileStatus,
} from '../../src/lib/protocol';
import type { HubContext } from '../context';
import { requireSession } from './auth';
import type { CookiePolicy } from './cookies';
import { parseOr400 } from './errors';

/**
 * Files: create an upload, ask what it holds, put chunk n, finish; read chunk n or the whole
 * ciphertext as a stream. Chunks travel as raw bytes, one chunk in memory at a time at most.
 * In a scope of their own, so that only these routes take `application/octet-stream` bodies.
 */
export async function fileRoutes(app: FastifyInstance, ctx: HubContext, policy: CookiePolicy): Promise<void> {
	await app.register(async (scope) => {
		scope.addContentTypeParser(
			FILE_CONTENT_TYPE,
			{ parseAs: 'buffer', bodyLimit: LIMITS.fileChunkMaxBytes },
			(_request, body, done) => done(null, body),
		);

		scope.post(ROUTES.files, async (request, reply): Promise<FileStatus> => {
			const session = await requireSession(ctx, policy, request);
			const body = parseOr400(FileCreateRequest, request.body, 'file');
			reply.code(201);
			return ctx.services.files.create(session.username, body);
		});

		scope.get(ROUTES.filePattern, async (request): Promise<FileStatus> => {
			const session = await requireSession(ctx, policy, request);
			const { id } = parseOr400(FileParams, request.params, 'file id');
			return ctx.services.files.status(session.username, id);
		});

		scope.put(ROUTES.fileChunkPattern, async (request, reply) => {
			const session = await requireSession(ctx, policy, request);
			const { id, n } = parseOr400(FileChunkParams, request.params, 'chunk');
			if (!(request.body instanceof Buffer)) {
				throw new ProtocolError('BAD_REQUEST', `Send the chunk as ${FILE_CONTENT_TYPE}.`);
			}
			await ctx.services.files.putChunk(session.username, id, n, request.body);
			return reply.code(204).send();
		});

		scope.post(ROUTES.fileFinishPattern, async (request): Promise<FileStatus> => {
			const session = await requireSession(ctx, policy, request);
			const { id } = parseOr400(FileParams, request.params, 'file id');
			return ctx.services.files.finish(session.username, id);
		});

		scope.get(ROUTES.fileChunkPattern, async (request, reply) => {
			const session = await requireSession(ctx, policy, request);
			const { id, n } = parseOr400(FileChunkParams, request.params, 'chunk');
			const data = await ctx.services.files.chunk(session.username, id, n);
			return reply
				.type(FILE_CONTENT_TYPE)
				.header('cache-control', 'no-store')
				.send(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
		});

		scope.get(ROUTES.fileContentPattern, async (request, reply) => {
			const session = await requireSession(ctx, policy, request);
			const { id } = parseOr400(FileParams, request.params, 'file id');
			const { from = 0 } = parseOr400(FileContentQuery, request.query, 'file query');
			const { chunks } = await ctx.services.files.content(session.username, id, from);
			// Pulled a chunk at a time as the socket drains: the hub holds one chunk per download.
			return reply
				.type(FILE_CONTENT_TYPE)
				.header('cache-control', 'no-store')
				.send(Readable.from(chunks, { objectMode: false, highWaterMark: 1 }));
		});
	});
}
