import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';

function capture() {
	const lines: string[] = [];
	const stream = new Writable({
		write(chunk: Buffer, _encoding, done) {
			lines.push(chunk.toString());
			done();
		},
	});
	return { lines, logger: createLogger({ logLevel: 'info', nodeEnv: 'production' }, stream) };
}

describe('logger', () => {
	it('writes JSON and redacts secrets and ciphertext at any of the first levels', () => {
		const { lines, logger } = capture();
		logger.info(
			{
				authKey: 'AUTHKEY-SECRET',
				password: 'PASSWORD-SECRET',
				envelope: {
					id: 'keep-me',
					ciphertext: 'CIPHERTEXT-BODY',
					signature: 'SIG-VALUE',
					nonce: 'NONCE-VALUE',
				},
				req: { headers: { cookie: 'hg_session=TOKEN-VALUE', host: 'hub' } },
				request: { body: { keyBackup: { ciphertext: 'BACKUP-VALUE' } } },
			},
			'something happened',
		);
		expect(lines).toHaveLength(1);
		const line = lines[0];
		expect(JSON.parse(line)).toMatchObject({ msg: 'something happened', envelope: { id: 'keep-me' } });
		for (const secret of [
			'AUTHKEY',
			'PASSWORD-SECRET',
			'CIPHERTEXT',
			'SIG-VALUE',
			'NONCE-VALUE',
			'TOKEN-VALUE',
			'BACKUP',
		]) {
			expect(line).not.toContain(secret);
		}
		expect(line).toContain('[redacted]');
	});
});
