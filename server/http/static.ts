import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors';

export interface StaticSite {
	root: string;
	indexHtml: string;
}

/** The built PWA, if STATIC_DIR holds one; the API runs without it. */
export function findStaticSite(staticDir: string): StaticSite | null {
	const root = resolve(staticDir);
	const index = join(root, 'index.html');
	if (!existsSync(index)) return null;
	return { root, indexHtml: readFileSync(index, 'utf8') };
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

export async function installStatic(app: FastifyInstance, site: StaticSite | null): Promise<void> {
	if (site) {
		await app.register(fastifyStatic, {
			root: site.root,
			cacheControl: false,
			setHeaders: (reply, path) => {
				reply.header('cache-control', cacheControlFor(path));
			},
		});
	}
	app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
		if (site && wantsShell(request)) {
			return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(site.indexHtml);
		}
		return sendError(reply, 'NOT_FOUND', 'Nothing here.');
	});
}
