// Loaded into a hub by a bench (`node --import ./bench/lib/memory-sampler.mjs`): writes the hub's
// `process.memoryUsage()` to MEMORY_SAMPLE_FILE every 100 ms, so the bench can tell heap from
// external memory and array buffers. Plain JavaScript: it loads before tsx.
import { renameSync, writeFileSync } from 'node:fs';

const file = process.env.MEMORY_SAMPLE_FILE;
if (file) {
	const timer = setInterval(() => {
		writeFileSync(`${file}.tmp`, JSON.stringify(process.memoryUsage()));
		renameSync(`${file}.tmp`, file);
	}, 100);
	timer.unref();
}
