import { describe, expect, it } from 'vitest';
import type { ControlBody } from '../protocol';
import type { DecodedMessage } from './messenger';
import {
	orderOf,
	readMarkerOf,
	readPoints,
	readReceiptOf,
	receiptsSettingOf,
	unreadCounts,
} from './readstate';

const ME = 'alice';
let seq = 0;

function message(overrides: Partial<DecodedMessage>): DecodedMessage {
	seq++;
	const from = overrides.from ?? 'bob';
	const to = overrides.to ?? ME;
	return {
		id: `id-${seq}`,
		peer: from === ME ? to : from,
		direction: from === ME ? 'out' : 'in',
		from,
		to,
		sentAt: 0,
		storedAt: seq * 1000,
		syncKey: `k${seq}`,
		state: 'live',
		unlockAt: null,
		releasedAt: null,
		announce: false,
		kind: 'text',
		expiresAfterMs: null,
		text: 'hi',
		control: null,
		problem: null,
		...overrides,
	};
}

function control(body: ControlBody, overrides: Partial<DecodedMessage> = {}): DecodedMessage {
	return message({ from: ME, to: ME, kind: 'control', text: null, control: body, ...overrides });
}

describe('read state from messages', () => {
	it('counts incoming messages after the newest marker as unread', () => {
		const a = message({});
		const b = message({});
		const marker = control({ type: 'read', peer: 'bob', upTo: orderOf(a) });
		const c = message({});
		expect(unreadCounts([a, b, marker, c], ME).get('bob')).toBe(2);
		expect(readPoints([a, b, marker, c], ME).get('bob')).toBe(orderOf(a));
	});

	it('takes a message the account sent as having read what came before it', () => {
		const a = message({});
		const reply = message({ from: ME, to: 'bob' });
		expect(unreadCounts([a, reply], ME).get('bob')).toBeUndefined();
	});

	it('never moves a read point back', () => {
		const late = control({ type: 'read', peer: 'bob', upTo: 9_000 });
		const old = control({ type: 'read', peer: 'bob', upTo: 1_000 });
		expect(readPoints([late, old], ME).get('bob')).toBe(9_000);
	});

	it('ignores markers from anyone else, and control envelopes that failed a check', () => {
		const forged = control({ type: 'read', peer: 'bob', upTo: 1e12 }, { from: 'bob', to: ME });
		expect(readMarkerOf(forged, ME)).toBeNull();
		const damaged = control({ type: 'read', peer: 'bob', upTo: 1e12 }, { problem: 'bad-signature' });
		expect(readMarkerOf(damaged, ME)).toBeNull();
		const a = message({});
		expect(unreadCounts([a, forged, damaged], ME).get('bob')).toBe(1);
	});

	it('reads receipts only from the peer, and settings only from the account itself', () => {
		const fromPeer = control({ type: 'read-receipt', ids: ['x'] }, { from: 'bob', to: ME });
		const ours = control({ type: 'read-receipt', ids: ['x'] }, { from: ME, to: 'bob' });
		expect(readReceiptOf(fromPeer, ME)).toEqual({ peer: 'bob', ids: ['x'] });
		expect(readReceiptOf(ours, ME)).toBeNull();
		const setting = control({ type: 'receipts-setting', on: true });
		expect(receiptsSettingOf(setting, ME)).toEqual({ on: true, at: setting.storedAt });
		expect(receiptsSettingOf({ ...setting, from: 'bob' }, ME)).toBeNull();
	});
});
