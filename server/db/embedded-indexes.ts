import type pg from 'pg';

/**
 * The fields whose equality filters the embedded engine answers through an index of its own.
 *
 * FerretDB 1.24 on PostgreSQL keeps each collection in a table of one `_jsonb` column and sends an
 * equality filter `{f: v}` down as `_jsonb->'f' @> v`; the btree indexes it builds for the
 * project's createIndex calls (`((_jsonb->'f'))`) cannot answer `@>`, so every such query was a
 * sequential scan. A GIN index on the same expression can, and then the query reads only the
 * documents it is about (figures: `npm run bench:store`, docs/OPERATIONS.md). Ranges, `$in`, `$or`
 * and sorts are not sent down by FerretDB at all: an index cannot help them, so only fields that
 * the hot queries filter by equality are here.
 */
export const EMBEDDED_INDEXES: Readonly<Record<string, readonly string[]>> = {
	// A live send's duplicate check and a get by id; sync pages and receipts (`to`), sender pages (`from`).
	envelopes: ['_id', 'to', 'from'],
	// The live send's lookup by id; the sender's list of locks and their sync pages; sealed notices;
	// the scheduler's refill, one due slot at a time (`dueSlot`, server/store/envelopes.ts).
	locked_envelopes: ['_id', 'to', 'from', 'dueSlot'],
	// Receipts a sender is told about.
	receipts: ['from'],
	// A handshake's read and a touch by id; a user's devices (the Devices page, revoking the others).
	sessions: ['_id', 'username'],
	// Sign-in throttling: every count and clear is by key.
	throttle_events: ['key'],
	// Every sign-in asks whether the user has a second factor; a code's check reads the user's spent codes.
	second_factors: ['_id'],
	second_factor_uses: ['username'],
	// The activity log's pages are one user's events.
	activity: ['username'],
	// Every send asks how the recipient stands with the sender (by id); a user's list (`owner`).
	contacts: ['_id', 'owner', 'peer'],
	// Files: an upload by id, a user's files (quota, account deletion), the envelope's file (retention);
	// one chunk by id, an upload's parts (resume, finish) and its chunks' delete by file.
	files: ['_id', 'owner', 'envelopeId', 'to'],
	file_chunks: ['_id', 'fileId'],
	file_parts: ['fileId'],
};

/** Suffix of the indexes this module owns, so that they can be told from FerretDB's own. */
const INDEX_SUFFIX = '_hg_';

/**
 * Installs, in the PostgreSQL database under the embedded FerretDB, an event trigger that gives
 * each new collection table the indexes above, and gives them to the tables that exist already.
 * A trigger rather than a pass after the hub opens its store: FerretDB creates a collection's table
 * at its first write or createIndex, in any database (each test file and bench has its own), and
 * the index is then there before the first document.
 *
 * It matches tables by FerretDB 1.24's naming (the collection's name, `_`, eight hex digits of
 * FNV-32a): a collection's metadata row is written after its table, too late for the trigger.
 */
export async function installEmbeddedIndexes(client: pg.Client): Promise<void> {
	const spec = Object.entries(EMBEDDED_INDEXES)
		.map(([collection, fields]) => `(${literal(collection)}, ARRAY[${fields.map(literal).join(', ')}])`)
		.join(', ');
	await client.query(`
		CREATE OR REPLACE FUNCTION public.hourglass_index_table(s text, t text) RETURNS void
		LANGUAGE plpgsql AS $$
		DECLARE f text;
		BEGIN
			FOR f IN
				SELECT unnest(spec.fields) FROM (VALUES ${spec}) AS spec(collection, fields)
				WHERE t ~ ('^' || spec.collection || '_[0-9a-f]{8}$')
			LOOP
				EXECUTE format(
					'CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((_jsonb -> %L) jsonb_path_ops)',
					t || '${INDEX_SUFFIX}' || f, s, t, f);
			END LOOP;
		END $$`);
	await client.query(`
		CREATE OR REPLACE FUNCTION public.hourglass_on_create_table() RETURNS event_trigger
		LANGUAGE plpgsql AS $$
		DECLARE r record;
		BEGIN
			FOR r IN SELECT * FROM pg_event_trigger_ddl_commands()
				WHERE command_tag = 'CREATE TABLE' AND object_type = 'table'
			LOOP
				PERFORM public.hourglass_index_table(r.schema_name, (parse_ident(r.object_identity))[2]);
			END LOOP;
		END $$`);
	await client.query('DROP EVENT TRIGGER IF EXISTS hourglass_indexes');
	await client.query(
		`CREATE EVENT TRIGGER hourglass_indexes ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
		 EXECUTE FUNCTION public.hourglass_on_create_table()`,
	);
	await indexEmbeddedTables(client);
}

/** Gives the existing collection tables (of `schema`, or of every schema) their indexes. */
export async function indexEmbeddedTables(client: pg.Client, schema?: string): Promise<void> {
	await client.query(
		`SELECT public.hourglass_index_table(schemaname, tablename) FROM pg_tables
		 WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND ($1::text IS NULL OR schemaname = $1)`,
		[schema ?? null],
	);
}

/** Drops this module's indexes in `schema` (FerretDB's database name), to measure without them. */
export async function dropEmbeddedIndexes(client: pg.Client, schema: string): Promise<void> {
	const { rows } = await client.query<{ indexname: string }>(
		`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE $2`,
		[schema, `%${INDEX_SUFFIX.replaceAll('_', '\\_')}%`],
	);
	for (const { indexname } of rows) {
		await client.query(`DROP INDEX ${identifier(schema)}.${identifier(indexname)}`);
	}
}

function literal(text: string): string {
	return `'${text.replaceAll("'", "''")}'`;
}

function identifier(text: string): string {
	return `"${text.replaceAll('"', '""')}"`;
}
