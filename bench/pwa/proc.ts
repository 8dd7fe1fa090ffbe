/** The renderer process behind a page, and its CPU time and memory, from /proc (Linux). */
import { readFileSync, readdirSync } from 'node:fs';
import type { Page } from 'playwright-core';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

function parentOf(pid: number): number | null {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
	} catch {
		return null;
	}
}

/** Chromium renderer processes started (through any depth of children) by this process. */
function renderers(): number[] {
	const found: number[] = [];
	for (const entry of readdirSync('/proc')) {
		const pid = Number(entry);
		if (!Number.isInteger(pid)) continue;
		let cmdline: string;
		try {
			cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
		} catch {
			continue;
		}
		if (!cmdline.includes('--type=renderer') || cmdline.includes('--extension-process')) continue;
		for (let up = parentOf(pid); up !== null && up > 1; up = parentOf(up)) {
			if (up === process.pid) {
				found.push(pid);
				break;
			}
		}
	}
	return found;
}

/** User plus system CPU time of every thread of `pid`, in milliseconds. */
export function cpuMs(pid: number): number {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	// Fields 14 and 15 of stat (utime, stime); the slice starts at field 3.
	return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

export interface ProcessMemory {
	rss: number;
	/** Private pages (clean, dirty and swapped): close to what Chrome's task manager calls the footprint. */
	private: number;
}

export function memoryOf(pid: number): ProcessMemory {
	const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
	const kb = (field: string) =>
		Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
	return { rss: kb('Rss'), private: kb('Private_Clean') + kb('Private_Dirty') + kb('Swap') };
}

/**
 * The renderer that runs `page`: the one whose CPU time grows most while the page spins, by far
 * (Playwright does not tell which process a page lives in). Spins longer when the machine is so
 * busy that no renderer stands out.
 */
export async function rendererOf(page: Page): Promise<number> {
	for (const spinMs of [500, 1500, 4000]) {
		const candidates = renderers();
		const before = new Map(candidates.map((pid) => [pid, cpuMs(pid)]));
		await page.evaluate((spin) => {
			const until = performance.now() + spin;
			while (performance.now() < until);
		}, spinMs);
		const grown = candidates
			.map((pid) => ({ pid, grew: cpuMs(pid) - (before.get(pid) ?? 0) }))
			.sort((a, b) => b.grew - a.grew);
		const [first, second] = grown;
		if (first && first.grew >= 100 && first.grew > 3 * (second?.grew ?? 0)) return first.pid;
	}
	throw new Error('rendererOf: no renderer process stood out while the page ran');
}
