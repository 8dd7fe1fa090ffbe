/** One envelope the scheduler waits for: fire `id` once the clock reaches `at`. */
export interface DueEntry {
	id: string;
	at: number;
}

function before(a: DueEntry, b: DueEntry): boolean {
	return a.at < b.at || (a.at === b.at && a.id < b.id);
}

/**
 * A binary min-heap ordered by due time, then id (UUIDv7 ids sort by creation, so ties
 * release in sending order). O(log n) push and pop keep 10,000 entries cheap.
 */
export class DueHeap {
	readonly #items: DueEntry[] = [];

	get size(): number {
		return this.#items.length;
	}

	peek(): DueEntry | undefined {
		return this.#items[0];
	}

	push(entry: DueEntry): void {
		const items = this.#items;
		items.push(entry);
		let i = items.length - 1;
		while (i > 0) {
			const parent = (i - 1) >> 1;
			if (!before(items[i], items[parent])) break;
			[items[i], items[parent]] = [items[parent], items[i]];
			i = parent;
		}
	}

	pop(): DueEntry | undefined {
		const items = this.#items;
		const top = items[0];
		const last = items.pop();
		if (items.length > 0 && last) {
			items[0] = last;
			let i = 0;
			for (;;) {
				const left = 2 * i + 1;
				const right = left + 1;
				let smallest = i;
				if (left < items.length && before(items[left], items[smallest])) smallest = left;
				if (right < items.length && before(items[right], items[smallest])) smallest = right;
				if (smallest === i) break;
				[items[i], items[smallest]] = [items[smallest], items[i]];
				i = smallest;
			}
		}
		return top;
	}

	clear(): void {
		this.#items.length = 0;
	}
}
