/**
 * `npx tsx bench/verify.ts`: the cost of one Ed25519 signature check on an envelope-sized message,
 * through libsodium's WebAssembly (what the hub uses, through src/lib/crypto) and through
 * node:crypto (OpenSSL), to decide whether the hub should verify with the latter.
 *
 *   npx tsx bench/verify.ts [--count 20000] [--bytes 700]
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ready } from '../src/lib/crypto';
import { fixed, table } from './lib/stats';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const { values } = parseArgs({
	options: { count: { type: 'string', default: '20000' }, bytes: { type: 'string', default: '700' } },
});
const count = Number(values.count);
const sodium = await ready();
const keys = sodium.crypto_sign_keypair();
const message = sodium.randombytes_buf(Number(values.bytes));
const signature = sodium.crypto_sign_detached(message, keys.privateKey);
const keyObject = (): KeyObject =>
	createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, keys.publicKey]), format: 'der', type: 'spki' });
const cached = keyObject();

/** Microseconds per call of `fn`, over `n` calls after a warm-up of a tenth as many. */
function perCall(n: number, fn: () => unknown): number {
	for (let i = 0; i < n / 10; i++) fn();
	const started = performance.now();
	for (let i = 0; i < n; i++) fn();
	return ((performance.now() - started) * 1000) / n;
}

const wasm = perCall(count, () => sodium.crypto_sign_verify_detached(signature, message, keys.publicKey));
const node = perCall(count, () => verify(null, message, cached, signature));
const build = perCall(Math.ceil(count / 10), keyObject);
process.stdout.write(
	[
		`Ed25519 verify, ${values.bytes}-byte message, ${count} calls each:`,
		table([
			['', 'µs per call'],
			['libsodium (WebAssembly)', fixed(wasm)],
			['node:crypto, KeyObject cached', fixed(node)],
			['node:crypto KeyObject from the raw key (once per user)', fixed(build)],
		]),
		`node:crypto ÷ libsodium: ${fixed(node / wasm)}×`,
	].join('\n') + '\n',
);
