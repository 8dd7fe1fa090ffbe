/** A bench's integer flag, read from its text: refused with the flag's name and range when it is not one. */
export function integerOption(name: string, text: string, min: number, max: number): number {
	const n = Number(text);
	if (!Number.isInteger(n) || n < min || n > max)
		throw new Error(`--${name} must be an integer from ${min} to ${max}`);
	return n;
}

/**
 * `--hub-node-args`: Node flags for the hub's own process, after the ones it always gets, as one
 * space-separated string. Each must be a flag (starting with `-`), so a value meant for another
 * option is not passed to Node by mistake.
 */
export function nodeArgsOption(text: string): string[] {
	const args = text.split(' ').filter(Boolean);
	const stray = args.find((arg) => !arg.startsWith('-'));
	if (stray !== undefined) throw new Error(`--hub-node-args takes Node flags only, not "${stray}"`);
	return args;
}
