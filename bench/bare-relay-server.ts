/**
 * The bare Socket.IO relay (bench/lib/bare-relay.ts) as a process of its own, so that it runs as
 * the hub does in the benches: it prints its URL, then serves until SIGTERM.
 */
import { startBareRelay } from './lib/bare-relay';

const relay = await startBareRelay();
process.stdout.write(`Bare relay is running at ${relay.url}\n`);
process.once('SIGTERM', () => void relay.close().then(() => process.exit(0)));
