import { describe, expect, it } from 'vitest';
import { Arrivals, arrivalText } from './arrivals';

const row = (id: string, order: number, over: Partial<Parameters<typeof arrivalText>[0]> = {}) => ({
	id,
	order,
	peer: 'alice',
	direction: 'in' as const,
	status: 'received' as const,
	text: `text ${id}`,
	file: null,
	problem: null,
	...over,
});

describe('Arrivals', () => {
	it('says nothing of the history a conversation opens with, then names each new incoming message once', () => {
		const arrivals = new Arrivals();
		const history = [row('a', 1), row('b', 2)];
		expect(arrivals.next(history)).toEqual([]);
		const c = row('c', 3);
		expect(arrivals.next([...history, c]).map((m) => m.id)).toEqual(['c']);
		expect(arrivals.next([...history, c])).toEqual([]);
	});

	it('does not announce older rows loaded above, our own messages, or a placeholder', () => {
		const arrivals = new Arrivals();
		arrivals.next([row('m', 10)]);
		expect(arrivals.next([row('old', 5), row('m', 10)])).toEqual([]);
		expect(
			arrivals.next([
				row('m', 10),
				row('mine', 11, { direction: 'out', status: 'sent' }),
				row('sealed', 12, { status: 'sealed' }),
			]),
		).toEqual([]);
	});
});

describe('arrivalText', () => {
	it('is plain text that names the sender, cut for speech only', () => {
		expect(arrivalText(row('a', 1, { text: '<b>hi</b>' }))).toBe('New message from alice: <b>hi</b>');
		expect(arrivalText(row('a', 1, { text: 'x'.repeat(500) }))).toBe(
			`New message from alice: ${'x'.repeat(200)}…`,
		);
		expect(arrivalText(row('a', 1, { file: { name: 'notes.txt', mime: 'text/plain', size: 3 } }))).toBe(
			'New file from alice: notes.txt',
		);
		expect(arrivalText(row('a', 1, { problem: 'bad-signature', text: null }))).toBe(
			'New message from alice, which could not be checked',
		);
	});
});
