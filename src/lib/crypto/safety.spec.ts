import { beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, ready, type Identity } from './index';
import { fingerprintMatches, partyFingerprint, safetyNumber } from './safety';

let alice: Identity;
let bob: Identity;

beforeAll(async () => {
	await ready();
	alice = generateIdentity();
	bob = generateIdentity();
});

describe('partyFingerprint', () => {
	it('is 30 digits, the same each time for the same name and keys', () => {
		const fp = partyFingerprint('alice', alice);
		expect(fp).toMatch(/^\d{30}$/);
		expect(partyFingerprint('alice', alice)).toBe(fp);
	});

	it('changes with the username and with either key', () => {
		const fp = partyFingerprint('alice', alice);
		expect(partyFingerprint('alicf', alice)).not.toBe(fp);
		expect(partyFingerprint('alice', { signPk: bob.signPk, boxPk: alice.boxPk })).not.toBe(fp);
		expect(partyFingerprint('alice', { signPk: alice.signPk, boxPk: bob.boxPk })).not.toBe(fp);
	});

	it('is one half of the safety number of a pair', () => {
		const digits = safetyNumber(
			{ username: 'alice', keys: alice },
			{ username: 'bob', keys: bob },
		).replaceAll(' ', '');
		const halves = [digits.slice(0, 30), digits.slice(30)];
		expect(halves).toContain(partyFingerprint('alice', alice));
		expect(halves).toContain(partyFingerprint('bob', bob));
	});
});

describe('fingerprintMatches', () => {
	it("accepts the party's own fingerprint and refuses any other", () => {
		const fp = partyFingerprint('bob', bob);
		expect(fingerprintMatches(fp, 'bob', bob)).toBe(true);
		expect(fingerprintMatches(partyFingerprint('bob', alice), 'bob', bob)).toBe(false);
		expect(fingerprintMatches(fp.slice(0, 29), 'bob', bob)).toBe(false);
		expect(fingerprintMatches(`${fp.slice(0, 29)}${(Number(fp[29]) + 1) % 10}`, 'bob', bob)).toBe(false);
	});
});
