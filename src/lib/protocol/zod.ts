import { z } from 'zod';

// zod compiles object parsers with `new Function` when it may, and finds out by trying once: under
// the PWA's CSP (no 'unsafe-eval', server/http/security.ts) that try is a reported violation in the
// page and in the kdf worker. jitless skips the try and the compiled path; it must be set before the
// first schema is built, so every schema of the protocol imports z from here. On the hub it costs
// about 0.8 µs per envelope parsed (1.1 → 1.9 µs), nothing beside a socket event's own cost.
z.config({ jitless: true });

export { z };
