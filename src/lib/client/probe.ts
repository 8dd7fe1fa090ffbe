/**
 * Render counts for the e2e tests, compiled in only by `npm run build:probe` (VITE_RENDER_PROBE=1).
 * In the production build the condition is a constant false: `probe` is an empty function and the
 * counting code is dropped, so nothing here is reachable in production.
 */
declare global {
	var __hourglassProbe: Record<string, number> | undefined;
}

export const probe: (name: string) => void =
	import.meta.env.VITE_RENDER_PROBE === '1'
		? (name) => {
				const counts = (globalThis.__hourglassProbe ??= {});
				counts[name] = (counts[name] ?? 0) + 1;
			}
		: () => undefined;
