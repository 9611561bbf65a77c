/**
 * The stream object's SQLite schema (documented in docs/storage.md). Each Durable Object holds one
 * stream, so `stream` has exactly one row. Migrations are numbered and applied once, in order.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE stream (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     stream_id TEXT NOT NULL,
     state TEXT NOT NULL,
     detail TEXT,
     model TEXT NOT NULL,
     provider TEXT NOT NULL,
     route TEXT NOT NULL,
     format TEXT NOT NULL,
     owner TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     finished_at INTEGER,
     event_count INTEGER NOT NULL DEFAULT 0,
     byte_count INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE event_batch (
     first_seq INTEGER PRIMARY KEY,
     last_seq INTEGER NOT NULL,
     events TEXT NOT NULL
   );`,
];

/** Brings the schema up to date; `schema_version` records how many migrations have run. */
export function migrate(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
  let version = row?.version ?? 0;
  if (row === undefined) sql.exec("INSERT INTO schema_version (version) VALUES (0)");
  for (; version < MIGRATIONS.length; version++) {
    const statement = MIGRATIONS[version];
    if (statement !== undefined) sql.exec(statement);
    sql.exec("UPDATE schema_version SET version = ?", version + 1);
  }
}
