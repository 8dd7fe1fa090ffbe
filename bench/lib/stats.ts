/** Small statistics for bench reports. Latencies are in milliseconds. */

/** The value below which `p` (0–1) of the sorted samples fall (nearest rank). */
export function percentile(sorted: number[], p: number): number {
	if (sorted.length === 0) return Number.NaN;
	const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
	return sorted[rank - 1];
}

export interface LatencySummary {
	count: number;
	p50: number;
	p99: number;
	max: number;
}

export function summarize(samples: number[]): LatencySummary {
	const sorted = [...samples].sort((a, b) => a - b);
	return {
		count: sorted.length,
		p50: percentile(sorted, 0.5),
		p99: percentile(sorted, 0.99),
		max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
	};
}

/** A fixed-width text table: the first column left-aligned, the others right-aligned. */
export function table(rows: (string | number)[][]): string {
	const cells = rows.map((row) => row.map((cell) => (typeof cell === 'number' ? fixed(cell) : cell)));
	const widths = cells[0].map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)));
	return cells
		.map((row) =>
			row
				.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
				.join('  '),
		)
		.join('\n');
}

export function fixed(value: number, digits = value >= 100 ? 0 : value >= 10 ? 1 : 2): string {
	return Number.isFinite(value) ? value.toFixed(digits) : '–';
}
