// Links in message text, found in the plain string and never rendered as HTML.

/** A run of message text: plain, or a link the reader can open. */
export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

/** Only these open from a message: no javascript:, data:, file: or custom scheme is ever a link. */
const SCHEMES = new Set(['http:', 'https:', 'mailto:']);

/** A URL with a scheme we link, or a bare mail address; ends at white space or an angle bracket. */
const CANDIDATE = /\b(?:https?:\/\/|mailto:)[^\s<>"]+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/giu;

/** Punctuation that ends a sentence more often than a URL. */
const TRAILING = /[.,;:!?'"’”)\]}]+$/u;

/**
 * Splits text into plain runs and links (http, https and mailto only), for a view that builds
 * anchors from text nodes. Joining every part's `text` gives the input back unchanged.
 */
export function splitLinks(text: string): TextPart[] {
	const parts: TextPart[] = [];
	let last = 0;
	for (const match of text.matchAll(CANDIDATE)) {
		let raw = match[0];
		const trail = TRAILING.exec(raw);
		// A closing bracket stays when the link opened one itself (Wikipedia's "Foo_(bar)").
		if (trail) {
			let cut = trail[0];
			while (cut.startsWith(')') && count(raw, '(') >= count(raw, ')')) cut = cut.slice(1);
			raw = raw.slice(0, raw.length - cut.length);
		}
		const href = hrefOf(raw);
		if (href === null) continue;
		const start = match.index;
		if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
		parts.push({ kind: 'link', text: raw, href });
		last = start + raw.length;
	}
	if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
	return parts;
}

function count(s: string, c: string): number {
	return s.split(c).length - 1;
}

/** The address a link opens, or null when it is not one we link. */
function hrefOf(raw: string): string | null {
	// The URL parser would read "http:///x" as host "x": a web link must name its host itself.
	if (/^https?:/iu.test(raw) && !/^https?:\/\/[^/]/iu.test(raw)) return null;
	const candidate = /^(?:https?:|mailto:)/iu.test(raw) ? raw : `mailto:${raw}`;
	let url: URL;
	try {
		url = new URL(candidate);
	} catch {
		return null;
	}
	if (!SCHEMES.has(url.protocol)) return null;
	return url.href;
}
