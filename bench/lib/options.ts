/** A bench's integer flag, read from its text: refused with the flag's name and range when it is not one. */
export function integerOption(name: string, text: string, min: number, max: number): number {
	const n = Number(text);
	if (!Number.isInteger(n) || n < min || n > max)
		throw new Error(`--${name} must be an integer from ${min} to ${max}`);
	return n;
}
