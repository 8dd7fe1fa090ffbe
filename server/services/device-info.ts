import { isIPv4, isIPv6 } from 'node:net';

/**
 * What the Devices page says about a session: a short device name read from the user agent, and
 * the network it signed in from. Both are coarse on purpose (docs/SECURITY.md, "Devices").
 */

const BROWSERS: [RegExp, string][] = [
	[/\bEdg(?:e|A|iOS)?\//, 'Edge'],
	[/\b(?:OPR|Opera)\//, 'Opera'],
	[/\b(?:Firefox|FxiOS)\//, 'Firefox'],
	[/\b(?:Chrome|Chromium|CriOS|HeadlessChrome)\//, 'Chrome'],
	[/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
];

const SYSTEMS: [RegExp, string][] = [
	[/\biPhone\b/, 'iPhone'],
	[/\biPad\b/, 'iPad'],
	[/\bAndroid\b/, 'Android'],
	[/\bCrOS\b/, 'ChromeOS'],
	[/\bWindows\b/, 'Windows'],
	[/\bMac OS X\b|\bMacintosh\b|\bdarwin\b/i, 'macOS'],
	[/\bLinux\b|\blinux\b/, 'Linux'],
];

/** The CLI's user agent: `hourglass-cli (<platform>; node <version>)` (cli/session.ts). */
const CLI = /^hourglass-cli\b/;

/** "Firefox on Linux", "Hourglass CLI on macOS", or the first word of an agent it does not know. */
export function describeDevice(userAgent: string): string {
	const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
	const on = system ? ` on ${system}` : '';
	if (CLI.test(userAgent)) return `Hourglass CLI${on}`;
	const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
	if (browser) return `${browser}${on}`;
	const product = /^[A-Za-z][\w.-]{0,39}/.exec(userAgent.trim())?.[0];
	return product ? `${product}${on}` : 'Unknown device';
}

/**
 * The network an address belongs to, never the address itself: the /16 of an IPv4 address
 * (`203.0.0.0/16`), the /48 of an IPv6 one (`2001:db8:85a3::/48`, a site's prefix). An IPv4 address
 * mapped into IPv6 counts as IPv4. Null when the text is not an address.
 */
export function coarsePlace(ip: string): string | null {
	const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
	const v4 = mapped ? mapped[1] : ip;
	if (isIPv4(v4)) {
		const [a, b] = v4.split('.');
		return `${a}.${b}.0.0/16`;
	}
	if (!isIPv6(ip)) return null;
	const groups = expandIPv6(ip);
	const prefix = groups.slice(0, 3).map((g) => parseInt(g, 16).toString(16));
	while (prefix.length > 0 && prefix[prefix.length - 1] === '0') prefix.pop();
	return prefix.length === 0 ? '::/48' : `${prefix.join(':')}::/48`;
}

/** The eight 16-bit groups of a valid IPv6 address (a zone index dropped, an IPv4 tail converted). */
function expandIPv6(ip: string): string[] {
	let text = ip.split('%')[0];
	const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
	if (tail) {
		const [a, b, c, d] = tail.slice(1).map(Number);
		text = text.slice(0, tail.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
	}
	const [head, rest] = text.split('::');
	const left = head ? head.split(':') : [];
	const right = rest ? rest.split(':') : [];
	const zeros = rest === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
	return [...left, ...zeros, ...right];
}
