import adapter from '@sveltejs/adapter-static';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';
import { onlineOnlyPlugin } from './scripts/precache.ts';

/** `npm run build:probe` writes a second build, with the e2e tests' render counters, beside the real one. */
const out = process.env.BUILD_DIR ?? 'build';

export default defineConfig({
	plugins: [
		// SvelteKit 3 takes its configuration here (it refuses a svelte.config.js).
		sveltekit({
			// An end-to-end encrypted client has nothing to render on a server: a single-page app.
			// precompress: a .br and a .gz beside every text file (node:zlib, brotli and gzip at their
			// best), which the hub sends by Accept-Encoding (server/http/static.ts).
			adapter: adapter({ pages: out, assets: out, fallback: 'index.html', strict: true, precompress: true }),
			serviceWorker: { register: true },
		}),
		// Tells the service worker which built files it need not precache (scripts/precache.ts).
		onlineOnlyPlugin(),
	],
	build: {
		// Two chunks pass Vite's 500 kB, both on purpose: libsodium's sumo build (Argon2id,
		// src/lib/crypto/), one Emscripten module of 534 kB that cannot be split; and zxcvbn's word
		// lists (1.2 MB; the French ones, 0.6 MB, are a chunk of their own for a French UI), loaded
		// only while a password is chosen and never precached (src/lib/client/password.ts,
		// scripts/precache.ts). Anything bigger still warns.
		chunkSizeWarningLimit: 1300,
	},
	server: {
		proxy: {
			'/api': 'http://127.0.0.1:3000',
			'/socket.io': { target: 'http://127.0.0.1:3000', ws: true },
		},
	},
});
