import type { PublicKeys } from './identity';
import { sodiumSync, utf8 } from './sodium';

const ITERATIONS = 5200;
const VERSION = new Uint8Array([0, 1]);

/**
 * A party's key fingerprint: 30 digits that stand for one username and its public keys — one half
 * of a safety number, and what a contact card carries so that keys can be checked out of band.
 */
export function partyFingerprint(username: string, keys: PublicKeys): string {
	return fingerprintDigits(username, keys);
}

/** Whether `fingerprint` (30 digits, from a contact card) stands for this username and these keys. */
export function fingerprintMatches(fingerprint: string, username: string, keys: PublicKeys): boolean {
	const expected = utf8(fingerprintDigits(username, keys));
	const given = utf8(fingerprint);
	return given.length === expected.length && sodiumSync().memcmp(given, expected);
}

/** 30 digits that stand for one party's username and public keys. */
function fingerprintDigits(username: string, keys: PublicKeys): string {
	const s = sodiumSync();
	const name = utf8(username);
	let hash = s.crypto_generichash(64, concat(VERSION, keys.signPk, keys.boxPk, name), null);
	for (let i = 0; i < ITERATIONS; i++) {
		hash = s.crypto_generichash(64, concat(hash, keys.signPk, keys.boxPk), null);
	}
	let digits = '';
	for (let chunk = 0; chunk < 6; chunk++) {
		const o = chunk * 5;
		// 40 bits per chunk, reduced to 5 decimal digits (as Signal's safety numbers do).
		const value =
			hash[o] * 2 ** 32 + hash[o + 1] * 2 ** 24 + hash[o + 2] * 2 ** 16 + hash[o + 3] * 2 ** 8 + hash[o + 4];
		digits += String(value % 100000).padStart(5, '0');
	}
	return digits;
}

function concat(...parts: Uint8Array[]): Uint8Array {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let offset = 0;
	for (const p of parts) {
		out.set(p, offset);
		offset += p.length;
	}
	return out;
}

/**
 * The safety number of a pair: 60 digits in twelve groups of five, the same on both sides
 * (the two halves are ordered by value, not by who computes it).
 */
export function safetyNumber(
	a: { username: string; keys: PublicKeys },
	b: { username: string; keys: PublicKeys },
): string {
	const halves = [fingerprintDigits(a.username, a.keys), fingerprintDigits(b.username, b.keys)].sort();
	return (halves[0] + halves[1]).match(/.{5}/g)!.join(' ');
}
