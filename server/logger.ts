import { pino, type DestinationStream, type Logger } from 'pino';
import type { HubConfig } from './config';

export type { Logger };

/** Field names whose values never reach a log line, at any of the first three levels of nesting. */
const SECRET_FIELDS = [
	'authKey',
	'authHash',
	'password',
	'token',
	'secret',
	'cookie',
	'ciphertext',
	'signature',
	'nonce',
	'keyBackup',
	'identity',
	'body',
];

export const REDACT_PATHS = [
	'req.headers.cookie',
	'req.headers.authorization',
	'res.headers["set-cookie"]',
	'headers.cookie',
	...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
];

/**
 * The hub's logger: JSON lines (pretty-printed in development, unless a destination is given),
 * with secrets and ciphertext replaced by "[redacted]" wherever a caller passes them by mistake.
 */
export function createLogger(
	config: Pick<HubConfig, 'logLevel' | 'nodeEnv'>,
	destination?: DestinationStream,
): Logger {
	const options = { level: config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
	if (destination) return pino(options, destination);
	return pino({
		...options,
		...(config.nodeEnv === 'development'
			? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } }
			: {}),
	});
}
