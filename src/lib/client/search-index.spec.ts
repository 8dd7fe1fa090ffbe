import { describe, expect, it } from 'vitest';
import { MessageIndex, excerpt, highlight } from './search-index';

function indexOf(texts: Record<string, string>): MessageIndex {
	const index = new MessageIndex();
	let order = 0;
	for (const [id, text] of Object.entries(texts))
		index.put({ id, peer: id.split(':')[0], order: order++, text });
	return index;
}

describe('MessageIndex', () => {
	it('finds every word of a query across conversations, the last one as a prefix', () => {
		const index = indexOf({
			'alice:1': 'Dinner at the station tonight?',
			'bob:1': 'The train station is closed',
			'bob:2': 'dinner tomorrow',
		});
		expect(index.search('station', 10).map((h) => h.id)).toEqual(
			expect.arrayContaining(['alice:1', 'bob:1']),
		);
		expect(index.search('dinner stat', 10).map((h) => h.id)).toEqual(['alice:1']);
		expect(index.search('dinner', 10).map((h) => h.peer)).toEqual(expect.arrayContaining(['alice', 'bob']));
	});

	it('ignores case and accents, and forgives a typo in a long word', () => {
		const index = indexOf({ 'a:1': 'Un café crème à Paris', 'a:2': 'appointment with the doctor' });
		expect(index.search('CAFE creme', 10).map((h) => h.id)).toEqual(['a:1']);
		expect(index.search('apointment', 10).map((h) => h.id)).toEqual(['a:2']);
	});

	it('forgets a removed message and replaces a changed one', () => {
		const index = indexOf({ 'a:1': 'secret plan', 'a:2': 'other words' });
		index.remove('a:1');
		expect(index.search('secret', 10)).toEqual([]);
		index.put({ id: 'a:2', peer: 'a', order: 2, text: 'new words' });
		expect(index.search('other', 10)).toEqual([]);
		expect(index.search('new', 10).map((h) => h.id)).toEqual(['a:2']);
		expect(index.size).toBe(1);
	});

	it('finds nothing for an empty or punctuation-only query', () => {
		const index = indexOf({ 'a:1': 'hello' });
		expect(index.search('', 10)).toEqual([]);
		expect(index.search(' ?! ', 10)).toEqual([]);
	});
});

describe('highlight', () => {
	it('marks the matched words as they are written, the rest as plain text', () => {
		const pieces = highlight('Un Café, <b>café</b>!', ['cafe']);
		expect(pieces).toEqual([
			{ text: 'Un ', match: false },
			{ text: 'Café', match: true },
			{ text: ', <b>', match: false },
			{ text: 'café', match: true },
			{ text: '</b>!', match: false },
		]);
		expect(pieces.map((p) => p.text).join('')).toBe('Un Café, <b>café</b>!');
	});

	it('cuts a long text around its first match', () => {
		const text = `${'a '.repeat(200)}needle ${'b '.repeat(200)}`;
		const cut = excerpt(highlight(text, ['needle']), 60);
		expect(cut[0]).toEqual({ text: '…', match: false });
		expect(cut.at(-1)).toEqual({ text: '…', match: false });
		expect(cut.some((p) => p.match && p.text === 'needle')).toBe(true);
		expect(cut.reduce((n, p) => n + p.text.length, 0)).toBeLessThanOrEqual(62);
	});
});
