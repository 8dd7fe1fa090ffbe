// Prints the plain closing line `tests: N passed, N failed[, N skipped]` from Vitest's JSON report,
// so a CI log ends with one summary whatever reporter format it reads.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/vitest.json';
if (!existsSync(file)) {
	console.error(`test-summary: ${file} is missing (the test run stopped before Vitest reported)`);
	process.exit(0);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
const failedSuites = (report.testResults ?? []).filter(
	(r) => r.status === 'failed' && r.assertionResults?.length === 0,
).length;
const failed = report.numFailedTests + failedSuites;
console.log(
	`tests: ${report.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`,
);
