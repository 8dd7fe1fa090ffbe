import { isIPv4, isIPv6 } from 'node:net';

/**
 * The source a request is counted under: an IPv4 address as it is, an IPv6 address by its /64
 * (one subscriber line or host gets a whole /64, so counting addresses singly would let it try
 * 2^64 times), and an IPv4 address mapped into IPv6 as the IPv4 address it is.
 */
export function sourceOf(ip: string): string {
	const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
	if (mapped && isIPv4(mapped[1])) return mapped[1];
	if (isIPv4(ip)) return ip;
	if (!isIPv6(ip)) return ip;
	return `${expandIPv6(ip).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, as lower-case hex without leading zeros. */
function expandIPv6(ip: string): string[] {
	const address = ip.split('%')[0].toLowerCase();
	const [head, tail] = address.includes('::') ? address.split('::') : [address, null];
	const parse = (part: string) => (part === '' ? [] : part.split(':'));
	let groups = parse(head);
	if (tail !== null) {
		const end = parse(tail);
		groups = [...groups, ...Array<string>(8 - groups.length - end.length).fill('0'), ...end];
	}
	return groups.map((group) => (group.includes('.') ? group : Number.parseInt(group, 16).toString(16)));
}
