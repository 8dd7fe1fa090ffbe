import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../src/lib/sdk';
import { openTestDb, watchCommands, type SeenCommand, type TestDb } from '../helpers/db';
import { startTestHub, testDatabaseUri, type TestHub } from '../helpers/hub';
import { newUser, uniqueName, waitForEvent, type TestClient } from '../helpers/users';

/**
 * Reads the embedded engine (FerretDB 1.24) answers in its own code by design, each with why it
 * stays cheap: everything else on the hot path must carry an equality it sends to PostgreSQL,
 * where the hub's expression indexes answer it (docs/OPERATIONS.md, "Databases").
 */
const KNOWN_SCANS: { why: string; matches: (c: SeenCommand) => boolean }[] = [
	{
		why: 'locked copies by id (a release, the removal after it): locked_envelopes holds only what waits',
		matches: (c) => c.collection === 'locked_envelopes' && shapeOf(c.filter) === '{_id: $in}',
	},
];

let hub: TestHub;
let db: TestDb;
let alice: TestClient;
let bob: TestClient;

beforeAll(async () => {
	const mongoUri = `${testDatabaseUri('explain')}?monitorCommands=true`;
	hub = await startTestHub({ name: 'explain', mongoUri });
	db = await openTestDb(mongoUri);
	alice = await newUser(hub.url, uniqueName('alice'));
	bob = await newUser(hub.url, uniqueName('bob'));
});

afterAll(async () => {
	alice?.close();
	bob?.close();
	await db?.close();
	await hub?.stop();
});

async function explain(command: SeenCommand): Promise<Record<string, unknown>> {
	const native = db.db;
	if (!native) throw new Error('explain: not connected');
	return native.command({
		explain: {
			find: command.collection,
			filter: command.filter,
			...(command.sort ? { sort: command.sort } : {}),
		},
		verbosity: 'queryPlanner',
	});
}

/** A filter with its values left out: `{to: =, _id: $in}`, so that each kind of query is explained once. */
function shapeOf(filter: unknown): string {
	if (Array.isArray(filter)) return `[${filter.map(shapeOf).join(', ')}]`;
	if (typeof filter !== 'object' || filter === null) return '=';
	const entries = Object.entries(filter as Record<string, unknown>);
	if (entries.length > 0 && entries.every(([key]) => key.startsWith('$'))) {
		return entries
			.map(([op, value]) => (op === '$or' || op === '$and' ? `${op} ${shapeOf(value)}` : op))
			.join(' ');
	}
	return `{${entries.map(([key, value]) => `${key}: ${shapeOf(value)}`).join(', ')}}`;
}

/** The stages of MongoDB's winning plan, outermost first. */
function stages(plan: unknown): string[] {
	const node = plan as { stage?: string; inputStage?: unknown; inputStages?: unknown[] } | undefined;
	if (!node?.stage) return [];
	return [node.stage, ...stages(node.inputStage), ...(node.inputStages ?? []).flatMap(stages)];
}

describe('what the hub asks its database for on the hot path', () => {
	it('is answered from an index: equality first on the embedded engine, no collection scan on MongoDB', async () => {
		const watch = watchCommands(db.name);
		try {
			// A session of use: live messages and their receipts, syncs, a time-lock listed and cancelled, a resend.
			const sent = [];
			for (const text of ['one', 'two', 'three']) sent.push(await alice.messenger.send(bob.username, text));
			await call(bob.socket, 'message:received', { ids: sent.map((s) => s.envelope.id) });
			await bob.messenger.syncAll(null);
			await alice.messenger.syncAll(null);
			const sealed = waitForEvent(bob.socket, 'timelock:sealed');
			const locked = await alice.messenger.send(bob.username, 'later', {
				unlockAt: Date.now() + 3_600_000,
				announce: true,
			});
			await sealed;
			await bob.messenger.syncAll(null);
			expect((await call(alice.socket, 'timelock:list', {})).items.map((e) => e.id)).toContain(
				locked.envelope.id,
			);
			await call(alice.socket, 'timelock:cancel', { id: locked.envelope.id });
			expect(await call(alice.socket, 'message:send', sent[0].envelope)).toMatchObject({ duplicate: true });
		} finally {
			watch.stop();
		}

		const ours = watch.seen.filter((c) => !c.collection.startsWith('system.'));
		expect(ours.length).toBeGreaterThan(5);
		const shapes = new Map<string, SeenCommand>();
		for (const c of ours) shapes.set(`${c.name} ${c.collection} ${shapeOf(c.filter)}`, c);
		const report: string[] = [];
		for (const [shape, command] of shapes) {
			const plan = await explain(command);
			if ('filterPushdown' in plan) {
				const known = KNOWN_SCANS.find((k) => k.matches(command));
				report.push(
					`${shape}: pushdown ${String(plan.filterPushdown)}${known ? ` (known: ${known.why})` : ''}`,
				);
				if (!known) expect(plan.filterPushdown, shape).toBe(true);
			} else {
				const winning = stages((plan.queryPlanner as { winningPlan?: unknown } | undefined)?.winningPlan);
				report.push(`${shape}: ${winning.join(' < ')}`);
				expect(winning, shape).not.toContain('COLLSCAN');
			}
		}
		console.info(`hot-path query shapes:\n  ${report.join('\n  ')}`);
	});
});
