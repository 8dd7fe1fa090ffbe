/**
 * Section 1 of bench/pwa.ts: a Node sender bursts messages into a conversation open on screen.
 * Measured: last send's ack → last message shown (painted), the longest task in the page during
 * the burst, IndexedDB holding them all, and the sender seeing every receipt. Baseline: a bare
 * Node SDK receiver (a receipt per message, as the PWA sends) receiving a burst the same way.
 */
import { EVENTS, type StoredEnvelope } from '../../src/lib/protocol';
import { accountDbName } from '../../src/lib/client/db';
import { call } from '../../src/lib/sdk';
import { register, startConversation } from '../../tests/e2e/support';
import { newUser, uniqueName, type TestClient } from '../../tests/helpers/users';
import {
	newPerson,
	pageErrors,
	sealMany,
	duration,
	ms,
	sendAll,
	watchStatuses,
	type PwaEnv,
	type Row,
} from './common';
import { countRows, epochNow, longTasks, socketSettled, waitShown, watchShown } from './page';

const SHOWN_GOAL_MS = 2_000;
const LONG_TASK_GOAL_MS = 50;

export interface BurstResult {
	count: number;
	node: { sendMs: number; lastAfterAckMs: number | null; receipts: number; refused: number };
	browser: {
		sendMs: number;
		shownAfterAckMs: number | null;
		longestTaskMs: number;
		longTasks: number;
		longTaskTotalMs: number;
		stored: number;
		receipts: number;
		receiptsAfterAckMs: number | null;
		refused: number;
	};
	timeoutMs: number;
	notes: string[];
}

/** The bare receiver: counts `message:new` for `ids` and sends a receipt for each, as the PWA does. */
function receiveAll(receiver: TestClient, ids: string[]) {
	const wanted = new Set(ids);
	const arrived = new Set<string>();
	let doneAt: number | null = null;
	let resolveAll: () => void = () => {};
	const all = new Promise<void>((resolve) => (resolveAll = resolve));
	const listener = (stored: StoredEnvelope) => {
		if (!wanted.has(stored.id) || arrived.has(stored.id)) return;
		arrived.add(stored.id);
		if (arrived.size === wanted.size) {
			doneAt = epochNow();
			resolveAll();
		}
		call(receiver.socket, EVENTS.receipt, { ids: [stored.id] }).catch(() => undefined);
	};
	receiver.socket.on(EVENTS.messageNew, listener);
	return {
		async wait(timeoutMs: number): Promise<number | null> {
			let timer: NodeJS.Timeout | undefined;
			await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
			clearTimeout(timer);
			receiver.socket.off(EVENTS.messageNew, listener);
			return doneAt;
		},
	};
}

export async function runBurst(env: PwaEnv, count: number): Promise<BurstResult> {
	const { timeoutMs } = env;
	const sender = await newUser(env.url, uniqueName('burst_send'));
	const receiver = await newUser(env.url, uniqueName('burst_node'));
	const person = await newPerson(env, 'burstweb');
	try {
		process.stderr.write(`pwa bench: burst of ${count} to a Node receiver…\n`);
		const toNode = await sealMany(sender.messenger, receiver.username, count);
		const nodeIds = toNode.map((e) => e.id);
		const nodeStatuses = watchStatuses(sender.socket, nodeIds);
		const receiving = receiveAll(receiver, nodeIds);
		const nodeSend = await sendAll(sender.messenger, toNode, timeoutMs);
		const nodeDoneAt = await receiving.wait(timeoutMs);
		await nodeStatuses.wait(timeoutMs);
		nodeStatuses.stop();

		process.stderr.write(`pwa bench: burst of ${count} to the browser…\n`);
		await register(person);
		await startConversation(person, sender.username);
		await person.page.getByRole('log').waitFor();
		const toBrowser = await sealMany(sender.messenger, person.name, count);
		const browserIds = toBrowser.map((e) => e.id);
		const lastId = browserIds[browserIds.length - 1];
		await watchShown(person.page, { key: 'burst', id: lastId, min: 1 });
		const browserStatuses = watchStatuses(sender.socket, browserIds);
		const browserSend = await sendAll(sender.messenger, toBrowser, timeoutMs);
		const shown = await waitShown(person.page, 'burst', timeoutMs);
		const burstEnd = shown?.painted ?? epochNow();
		const receiptsLeft = Math.max(1000, timeoutMs - (epochNow() - browserSend.lastAckAt));
		const allReceipts = await browserStatuses.wait(receiptsLeft);
		browserStatuses.stop();
		await socketSettled(person.page);
		const stored = await countRows(person.page, { db: accountDbName(person.name), peer: sender.username });
		const tasks = (await longTasks(person.page)).filter(
			(t) => t.start + t.duration >= browserSend.startedAt && t.start <= burstEnd,
		);
		return {
			count,
			node: {
				sendMs: nodeSend.lastAckAt - nodeSend.startedAt,
				lastAfterAckMs: nodeDoneAt === null ? null : nodeDoneAt - nodeSend.lastAckAt,
				receipts: nodeStatuses.count,
				refused: nodeSend.refused,
			},
			browser: {
				sendMs: browserSend.lastAckAt - browserSend.startedAt,
				shownAfterAckMs: shown === null ? null : shown.painted - browserSend.lastAckAt,
				longestTaskMs: Math.max(0, ...tasks.map((t) => t.duration)),
				longTasks: tasks.length,
				longTaskTotalMs: tasks.reduce((sum, t) => sum + t.duration, 0),
				stored,
				receipts: browserStatuses.count,
				receiptsAfterAckMs: allReceipts ? browserStatuses.lastAt - browserSend.lastAckAt : null,
				refused: browserSend.refused,
			},
			timeoutMs,
			notes: [
				...pageErrors(person),
				...[nodeSend, browserSend]
					.filter((s) => s.refused > 0)
					.map((s) => `${s.refused} sends refused, first: ${s.firstRefusal}`),
			],
		};
	} finally {
		sender.close();
		receiver.close();
		await person.context.close();
	}
}

export function burstRows(r: BurstResult): Row[] {
	const { node, browser, count, timeoutMs } = r;
	const shownMet = browser.shownAfterAckMs !== null && browser.shownAfterAckMs <= SHOWN_GOAL_MS;
	return [
		{
			figure: `sending ${count} (first send → last ack)`,
			measured: duration(browser.sendMs),
			baseline: duration(node.sendMs),
			goal: '≈ 2 s',
			met: null,
		},
		{
			figure: 'last ack → last message shown',
			measured: duration(browser.shownAfterAckMs, timeoutMs),
			baseline: duration(node.lastAfterAckMs, timeoutMs),
			goal: `≤ ${SHOWN_GOAL_MS / 1000} s`,
			met: shownMet,
		},
		{
			figure: 'longest task in the page during the burst',
			// The longtask API reports only tasks over 50 ms.
			measured: browser.longTasks === 0 ? 'none over 50 ms' : ms(browser.longestTaskMs),
			baseline: '',
			goal: `≤ ${LONG_TASK_GOAL_MS} ms`,
			met: browser.longestTaskMs <= LONG_TASK_GOAL_MS,
		},
		{
			figure: 'long tasks (> 50 ms): count, total',
			measured: `${browser.longTasks}, ${duration(browser.longTaskTotalMs)}`,
			baseline: '',
			goal: '0',
			met: browser.longTasks === 0,
		},
		{
			figure: 'messages in IndexedDB',
			measured: `${browser.stored} / ${count}`,
			baseline: '',
			goal: `${count}`,
			met: browser.stored === count,
		},
		{
			figure: 'receipts the sender saw (message:status)',
			measured: `${browser.receipts} / ${count}`,
			baseline: `${node.receipts} / ${count}`,
			goal: `${count}`,
			met: browser.receipts === count,
		},
		{
			figure: 'last ack → last receipt at the sender',
			measured: duration(browser.receiptsAfterAckMs, timeoutMs),
			baseline: '',
			goal: '',
			met: null,
		},
	];
}
