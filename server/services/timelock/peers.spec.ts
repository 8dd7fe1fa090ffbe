import { describe, expect, it } from 'vitest';
import { HubPeers, PEER_TIMEOUT_MS } from './peers';

const ids = Array.from({ length: 3_000 }, (_, i) => `0190aaaa-bbbb-7ccc-8ddd-${String(i).padStart(12, '0')}`);

describe('HubPeers', () => {
	it('alone, owns every lock', () => {
		const peers = new HubPeers('a', () => 0);
		expect(ids.every((id) => peers.owns(id))).toBe(true);
	});

	it('gives every lock exactly one owner, the same on every hub, spread about evenly', () => {
		let now = 1_000;
		const clock = () => now;
		const hubs = ['a', 'b', 'c'].map((name) => new HubPeers(name, clock));
		for (const hub of hubs) for (const other of hubs) hub.heard(other.self);
		const shares = new Map<string, number>();
		for (const id of ids) {
			const owners = hubs.filter((hub) => hub.owns(id)).map((hub) => hub.self);
			expect(owners).toHaveLength(1);
			expect(hubs.map((hub) => hub.ownerOf(id))).toEqual([owners[0], owners[0], owners[0]]);
			shares.set(owners[0], (shares.get(owners[0]) ?? 0) + 1);
		}
		for (const name of ['a', 'b', 'c']) expect(shares.get(name)).toBeGreaterThan(ids.length / 3 - 200);
		now += 1;
	});

	it('hands a silent hub’s share to the others, and only its share', () => {
		let now = 1_000;
		const a = new HubPeers('a', () => now);
		a.heard('b');
		a.heard('c');
		const before = new Map(ids.map((id) => [id, a.ownerOf(id)]));
		// b keeps talking; c falls silent.
		now += PEER_TIMEOUT_MS - 100;
		a.heard('b');
		now += 200;
		expect(a.alive().sort()).toEqual(['a', 'b']);
		for (const id of ids) {
			const owner = a.ownerOf(id);
			if (before.get(id) === 'c') expect(owner).not.toBe('c');
			else expect(owner).toBe(before.get(id));
		}
	});

	it('moves a leaving hub’s share at once', () => {
		const a = new HubPeers('a', () => 5_000);
		a.heard('b');
		expect(ids.some((id) => !a.owns(id))).toBe(true);
		a.left('b');
		expect(ids.every((id) => a.owns(id))).toBe(true);
	});

	it('names each hub that went silent or left once, and forgets what it said it settled', () => {
		let now = 1_000;
		const a = new HubPeers('a', () => now);
		a.heard('b');
		a.heard('c');
		a.progressed('b');
		a.progressed('a');
		a.heard('c', true);
		expect(a.releasing('c')).toBe(true);
		expect(a.releasing('b')).toBe(false);
		expect(a.lastProgress('b')).toBe(1_000);
		expect(a.lastProgress('a')).toBeNull();
		expect(a.departed()).toEqual([]);
		now += PEER_TIMEOUT_MS + 1;
		a.heard('c');
		expect(a.releasing('c')).toBe(false);
		expect(a.departed()).toEqual(['b']);
		expect(a.departed()).toEqual([]);
		expect(a.lastProgress('b')).toBeNull();
		a.left('c');
		expect(a.departed()).toEqual(['c']);
		// A hub heard again after it was counted out is alive again, and can go again.
		a.heard('b');
		expect(a.departed()).toEqual([]);
		now += PEER_TIMEOUT_MS + 1;
		expect(a.departed()).toEqual(['b']);
	});
});

describe('HubPeers: the lock notices of other hubs', () => {
	it('says when a heartbeat counts more notices than came, and not on first hearing of a hub', () => {
		const a = new HubPeers('a', () => 1_000);
		// First heard of with 7 sent: those came before this hub listened, its first read has them.
		expect(a.heard('b', false, 7)).toBe(false);
		expect(a.noticed('b', 8)).toBe(false);
		expect(a.heard('b', false, 8)).toBe(false);
		// Notice 9 never came; the next heartbeat says 9 were sent.
		expect(a.heard('b', true, 9)).toBe(true);
		// Said once: accounted for from then on.
		expect(a.heard('b', false, 9)).toBe(false);
		// A heartbeat from an older hub, without a count, says nothing about notices.
		expect(a.heard('b')).toBe(false);
		expect(a.heard('a', false, 100)).toBe(false);
	});

	it('says when a notice skips numbers; one that comes in order or again does not', () => {
		const a = new HubPeers('a', () => 1_000);
		expect(a.noticed('c', 3)).toBe(false);
		expect(a.noticed('c', 4)).toBe(false);
		expect(a.noticed('c', 6)).toBe(true);
		expect(a.noticed('c', 6)).toBe(false);
		expect(a.noticed('c', 7)).toBe(false);
		expect(a.heard('c', false, 7)).toBe(false);
	});

	it('remembers the count of a hub it counted out, so what it sent while cut off shows when it is back', () => {
		let now = 1_000;
		const a = new HubPeers('a', () => now);
		a.heard('b', false, 2);
		a.departed();
		now += PEER_TIMEOUT_MS + 1;
		expect(a.departed()).toEqual(['b']);
		// b stored locks while its Redis link was down: notices 3 and 4 were lost.
		expect(a.heard('b', false, 4)).toBe(true);
	});
});
