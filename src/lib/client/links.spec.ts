import { describe, expect, it } from 'vitest';
import { splitLinks } from './links';

const joined = (text: string) =>
	splitLinks(text)
		.map((p) => p.text)
		.join('');

describe('splitLinks', () => {
	it('finds http, https and mailto links and keeps the text around them', () => {
		expect(splitLinks('see https://example.org/a?b=1#c and http://x.test now')).toEqual([
			{ kind: 'text', text: 'see ' },
			{ kind: 'link', text: 'https://example.org/a?b=1#c', href: 'https://example.org/a?b=1#c' },
			{ kind: 'text', text: ' and ' },
			{ kind: 'link', text: 'http://x.test', href: 'http://x.test/' },
			{ kind: 'text', text: ' now' },
		]);
		expect(splitLinks('write to mailto:bob@example.org or alice@example.org')).toEqual([
			{ kind: 'text', text: 'write to ' },
			{ kind: 'link', text: 'mailto:bob@example.org', href: 'mailto:bob@example.org' },
			{ kind: 'text', text: ' or ' },
			{ kind: 'link', text: 'alice@example.org', href: 'mailto:alice@example.org' },
		]);
	});

	it('never links another scheme', () => {
		for (const text of [
			'javascript:alert(1)',
			'JaVaScRiPt:alert(document.cookie)',
			'data:text/html,<script>alert(1)</script>',
			'file:///etc/passwd',
			'vbscript:msgbox',
			'hourglass://open',
		]) {
			expect(
				splitLinks(text).every((p) => p.kind === 'text'),
				text,
			).toBe(true);
			expect(joined(text)).toBe(text);
		}
	});

	it('leaves sentence punctuation out of the link, but a bracket the link opened in', () => {
		expect(splitLinks('Look: https://example.org/x.').at(1)).toEqual({
			kind: 'link',
			text: 'https://example.org/x',
			href: 'https://example.org/x',
		});
		expect(splitLinks('(https://example.org)')[1]).toMatchObject({ text: 'https://example.org' });
		expect(splitLinks('https://en.wikipedia.org/wiki/Foo_(bar)')[0]).toMatchObject({
			text: 'https://en.wikipedia.org/wiki/Foo_(bar)',
		});
	});

	it('gives the text back unchanged, markup and all, whatever it holds', () => {
		for (const text of [
			'',
			'plain',
			'<a href="javascript:alert(1)">x</a> https://ok.test/<b>',
			'שלום https://example.org/עברית مرحبا',
			'漢字 😀 https://例え.テスト/パス',
			'http:// https://',
		]) {
			expect(joined(text), text).toBe(text);
		}
	});

	it('does not link a scheme with no host', () => {
		expect(splitLinks('http:///path').every((p) => p.kind === 'text')).toBe(true);
	});
});
