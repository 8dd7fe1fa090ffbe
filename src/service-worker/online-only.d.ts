// Built by scripts/precache.ts: the files the service worker does not precache.
declare module 'virtual:hourglass/online-only' {
	const files: string[];
	export default files;
}
