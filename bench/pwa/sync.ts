/**
 * Section 2 of bench/pwa.ts: N messages wait on the hub for a user who is offline; then the
 * browser signs in from a fresh context and syncs. Measured: the first `sync:pull` → all N in
 * IndexedDB and the peer in the conversation list (and from the sign-in click). Baseline, the
 * hub-bound floor: a Node SDK device signing in as the same user and pulling the same N with
 * `messenger.syncAll`, sending a receipt per page as the PWA does (and, for reference, syncAll
 * alone before it).
 */
import { accountDbName } from '../../src/lib/client/db';
import { HubApi, createAccount } from '../../src/lib/sdk';
import { PASSWORD } from '../../tests/e2e/support';
import { newUser, signInUser, uniqueName } from '../../tests/helpers/users';
import { fixed } from '../lib/stats';
import { newPerson, pageErrors, sealMany, duration, sendAll, type PwaEnv, type Row } from './common';
import { countRows, epochNow, signInThroughForm, socketSettled, syncPulls, waitSynced } from './page';

const RATIO_GOAL = 1.5;

interface NodeSync {
	signInMs: number;
	syncMs: number;
	messages: number;
	pages: number;
}

export interface SyncRun {
	n: number;
	/** The baseline: syncAll sending a receipt per page, as the PWA does. */
	node: NodeSync;
	/** syncAll alone, no receipts (run first, on the same messages). */
	pullOnlyMs: number;
	browser: {
		signInMs: number;
		/** Sign-in click → synced. */
		totalMs: number | null;
		/** First sync:pull → synced. */
		syncMs: number | null;
		pulls: number;
		stored: number;
	};
	timeoutMs: number;
	notes: string[];
}

/** A new Node SDK device signs in as `username` and pulls everything, with a receipt per page or not. */
async function nodeSync(url: string, username: string, receipts: boolean): Promise<NodeSync> {
	const signInStart = epochNow();
	const device = await signInUser(url, username, PASSWORD);
	const syncStart = epochNow();
	let pages = 0;
	const ids = new Set<string>();
	try {
		await device.messenger.syncAll(null, async (page) => {
			pages++;
			for (const m of page.messages) ids.add(m.id);
			const incoming = page.messages.filter((m) => m.direction === 'in').map((m) => m.id);
			if (receipts && incoming.length > 0) await device.messenger.receipt(incoming);
		});
	} finally {
		device.close();
	}
	return { signInMs: syncStart - signInStart, syncMs: epochNow() - syncStart, messages: ids.size, pages };
}

export async function runSync(env: PwaEnv, n: number): Promise<SyncRun> {
	const { timeoutMs } = env;
	const sender = await newUser(env.url, uniqueName('sync_send'));
	const username = uniqueName('syncweb');
	await createAccount(new HubApi({ baseUrl: env.url, keepCookies: true }), username, PASSWORD);
	process.stderr.write(`pwa bench: storing ${n} messages for an offline user…\n`);
	const stored = await sendAll(sender.messenger, await sealMany(sender.messenger, username, n), timeoutMs);
	sender.close();
	const notes = stored.refused > 0 ? [`${stored.refused} sends refused, first: ${stored.firstRefusal}`] : [];

	process.stderr.write(`pwa bench: Node SDK devices sync ${n}, pulling only, then with receipts…\n`);
	const pullOnly = await nodeSync(env.url, username, false);
	const node = await nodeSync(env.url, username, true);

	process.stderr.write(`pwa bench: the browser signs in and syncs ${n}…\n`);
	const person = await newPerson(env, 'syncweb', username);
	try {
		const clickedAt = await signInThroughForm(person, timeoutMs);
		const signedInAt = epochNow();
		const target = { db: accountDbName(username), peer: sender.username };
		const syncedAt = await waitSynced(person.page, target, n, timeoutMs);
		const pulls = await syncPulls(person.page);
		await socketSettled(person.page);
		return {
			n,
			node,
			pullOnlyMs: pullOnly.syncMs,
			browser: {
				signInMs: signedInAt - clickedAt,
				totalMs: syncedAt === null ? null : syncedAt - clickedAt,
				syncMs: syncedAt === null || pulls.length === 0 ? null : syncedAt - pulls[0],
				pulls: pulls.length,
				stored: await countRows(person.page, target),
			},
			timeoutMs,
			notes: [...notes, ...pageErrors(person)],
		};
	} finally {
		await person.context.close();
	}
}

export function syncRows(r: SyncRun): Row[] {
	const { node, browser, n, timeoutMs } = r;
	const ratio = browser.syncMs === null ? null : browser.syncMs / node.syncMs;
	return [
		{
			figure: `${n}: first sync:pull → synced (browser) / syncAll (Node)`,
			measured: duration(browser.syncMs, timeoutMs),
			baseline: duration(node.syncMs),
			goal: `ratio ≤ ${RATIO_GOAL}`,
			met: ratio !== null && ratio <= RATIO_GOAL,
		},
		{
			figure: `${n}: ratio browser ÷ Node`,
			measured: ratio === null ? '–' : `${fixed(ratio)}×`,
			baseline: '1×',
			goal: '≈ 1',
			met: null,
		},
		{
			figure: `${n}: Node syncAll without receipts`,
			measured: '',
			baseline: duration(r.pullOnlyMs),
			goal: '',
			met: null,
		},
		{
			figure: `${n}: sign-in click → synced / SDK signIn + syncAll`,
			measured: duration(browser.totalMs, timeoutMs),
			baseline: duration(node.signInMs + node.syncMs),
			goal: '',
			met: null,
		},
		{
			figure: `${n}: sign-in (click → /chat) / SDK signIn`,
			measured: duration(browser.signInMs),
			baseline: duration(node.signInMs),
			goal: '',
			met: null,
		},
		{
			figure: `${n}: messages stored / pulled`,
			measured: `${browser.stored} / ${n}`,
			baseline: `${node.messages} / ${n}`,
			goal: `${n}`,
			met: browser.stored === n,
		},
		{
			figure: `${n}: sync:pull requests`,
			measured: String(browser.pulls),
			baseline: String(node.pages),
			goal: '',
			met: null,
		},
	];
}
