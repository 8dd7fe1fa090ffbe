import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import negotiate from '@fastify/accept-negotiator';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors';
import { inlineScriptHashes } from './security';

/** How often the shell's file is checked for a rebuild at most. */
const SHELL_RECHECK_MS = 1_000;

export interface Shell {
	html: string;
	/** CSP hashes of its inline scripts. */
	scriptHashes: string[];
	/** The page compressed once when it is read, as the build compresses every other file. */
	encoded: Record<ShellEncoding, Buffer>;
}

const SHELL_ENCODINGS = ['br', 'gzip'] as const;
type ShellEncoding = (typeof SHELL_ENCODINGS)[number];

/**
 * The built PWA in STATIC_DIR. Its index.html (the shell) is re-read when the file changes, so
 * a rebuild while the hub runs serves the new page with a CSP that allows its new boot script.
 */
export class StaticSite {
	readonly root: string;
	readonly #index: string;
	#shell: Shell;
	#mtimeMs: number;
	#checkedAt = 0;

	constructor(root: string) {
		this.root = root;
		this.#index = join(root, 'index.html');
		this.#mtimeMs = statSync(this.#index).mtimeMs;
		this.#shell = readShell(this.#index);
	}

	shell(): Shell {
		const now = Date.now();
		if (now - this.#checkedAt >= SHELL_RECHECK_MS) {
			this.#checkedAt = now;
			try {
				const mtimeMs = statSync(this.#index).mtimeMs;
				if (mtimeMs !== this.#mtimeMs) {
					this.#shell = readShell(this.#index);
					this.#mtimeMs = mtimeMs;
				}
			} catch {
				// Mid-rebuild the file may be missing for a moment: keep serving the last good shell.
			}
		}
		return this.#shell;
	}
}

function readShell(path: string): Shell {
	const html = readFileSync(path, 'utf8');
	const bytes = Buffer.from(html, 'utf8');
	return {
		html,
		scriptHashes: inlineScriptHashes(html),
		encoded: {
			br: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }),
			gzip: gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }),
		},
	};
}

/** The built PWA, if STATIC_DIR holds one; the API runs without it. */
export function findStaticSite(staticDir: string): StaticSite | null {
	const root = resolve(staticDir);
	return existsSync(join(root, 'index.html')) ? new StaticSite(root) : null;
}

/** Cache rules: hashed build assets forever; the shell and the service worker revalidated every time. */
export function cacheControlFor(path: string): string {
	if (/[\\/]_app[\\/]immutable[\\/]/.test(path)) return 'public, max-age=31536000, immutable';
	return 'no-cache';
}

const NOT_SPA = /^\/(api|socket\.io|metrics)(\/|$|\?)/;

/** A request the single-page app answers with its shell: a page navigation, not an asset or an API call. */
function wantsShell(request: FastifyRequest): boolean {
	if (request.method !== 'GET' && request.method !== 'HEAD') return false;
	if (NOT_SPA.test(request.url)) return false;
	const accept = request.headers.accept ?? '';
	const lastSegment = request.url.split('?')[0].split('/').pop() ?? '';
	return accept.includes('text/html') || !lastSegment.includes('.');
}

/** The encoding to send the shell in, by the request's Accept-Encoding (none: as it is). */
export function shellEncoding(acceptEncoding: string | undefined): ShellEncoding | null {
	if (!acceptEncoding) return null;
	return negotiate(acceptEncoding.toLowerCase(), [...SHELL_ENCODINGS]);
}

export interface StaticOptions {
	/** Send the build's .br/.gz copies and a compressed shell to browsers that accept them. */
	compression: boolean;
}

export async function installStatic(
	app: FastifyInstance,
	site: StaticSite | null,
	{ compression }: StaticOptions,
): Promise<void> {
	if (site) {
		await app.register(fastifyStatic, {
			root: site.root,
			// index.html is answered below from the checked shell, so its body always matches the CSP.
			index: false,
			cacheControl: false,
			// The build writes a .br and a .gz beside each text file; sent by Accept-Encoding, with Vary.
			preCompressed: compression,
			setHeaders: (reply, path) => {
				reply.header('cache-control', cacheControlFor(path));
			},
		});
	}
	const sendShell = (request: FastifyRequest, reply: FastifyReply, shellSite: StaticSite) => {
		const shell = shellSite.shell();
		reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8');
		if (!compression) return reply.send(shell.html);
		reply.header('vary', 'accept-encoding');
		const encoding = shellEncoding(request.headers['accept-encoding']);
		if (!encoding) return reply.send(shell.html);
		return reply.header('content-encoding', encoding).send(shell.encoded[encoding]);
	};
	if (site) app.get('/', (request, reply) => sendShell(request, reply, site));
	app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
		if (site && wantsShell(request)) return sendShell(request, reply, site);
		return sendError(reply, 'NOT_FOUND', 'Nothing here.');
	});
}
