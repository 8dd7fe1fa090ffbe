import { describe, expect, it } from 'vitest';
import { coarsePlace, describeDevice } from './device-info';

describe('describeDevice', () => {
	it('names the browser and the system of common user agents', () => {
		const cases: [string, string][] = [
			['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Linux'],
			[
				'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
				'Edge on Windows',
			],
			[
				'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
				'Safari on iPhone',
			],
			[
				'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
				'Chrome on Android',
			],
			[
				'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
				'Safari on macOS',
			],
			[
				'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/139.0.0.0 Safari/537.36',
				'Chrome on Linux',
			],
			['hourglass-cli (linux; node 24.7.0)', 'Hourglass CLI on Linux'],
			['hourglass-cli (darwin; node 24.7.0)', 'Hourglass CLI on macOS'],
			['node', 'node'],
			['', 'Unknown device'],
		];
		for (const [agent, name] of cases) expect(describeDevice(agent), agent).toBe(name);
	});
});

describe('coarsePlace', () => {
	it('keeps the /16 of an IPv4 address and the /48 of an IPv6 one, never the address', () => {
		expect(coarsePlace('203.0.113.77')).toBe('203.0.0.0/16');
		expect(coarsePlace('::ffff:198.51.100.9')).toBe('198.51.0.0/16');
		expect(coarsePlace('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::/48');
		expect(coarsePlace('2001:db8::1')).toBe('2001:db8::/48');
		expect(coarsePlace('2001:0db8:0000:0042::1')).toBe('2001:db8::/48');
		expect(coarsePlace('fe80::1%eth0')).toBe('fe80::/48');
		expect(coarsePlace('::1')).toBe('::/48');
		expect(coarsePlace('127.0.0.1')).toBe('127.0.0.0/16');
	});

	it('gives null for what is not an address', () => {
		expect(coarsePlace('')).toBeNull();
		expect(coarsePlace('localhost')).toBeNull();
		expect(coarsePlace('300.1.2.3')).toBeNull();
	});
});
