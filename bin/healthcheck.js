#!/usr/bin/env node
// Container health probe: exits 0 when the hub on this machine answers GET /api/health with 200
// (the database is up), 1 otherwise. Plain JavaScript, so it starts fast and needs no build.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const TIMEOUT_MS = 4000;
const tls = Boolean(process.env.TLS_CERT && process.env.TLS_KEY);
const request = tls ? httpsRequest : httpRequest;

const probe = request(
	{
		host: '127.0.0.1',
		port: Number(process.env.PORT || 3000),
		path: '/api/health',
		timeout: TIMEOUT_MS,
		// The certificate names the public host, not 127.0.0.1: this loopback probe checks liveness only.
		rejectUnauthorized: false,
	},
	(response) => {
		response.resume();
		process.exitCode = response.statusCode === 200 ? 0 : 1;
	},
);
probe.on('timeout', () => probe.destroy(new Error('timeout')));
probe.on('error', (error) => {
	process.stderr.write(`healthcheck: ${error.message}\n`);
	process.exitCode = 1;
});
probe.end();
