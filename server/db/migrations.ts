// The store's schema version: one row per component (sessions, events) in schema_versions, and an
// ordered list of migrations per component. On open, every migration above the recorded version runs,
// in one transaction with the new version, so a database moves forward once and never half-way; a
// database from a newer release is refused (its tables may mean things this code does not know).
// A database made before versions were recorded counts as version 0: migration 1 is that release's
// schema, written idempotently (IF NOT EXISTS), so it is a no-op there and creates a fresh one.
import type Database from 'better-sqlite3';
import type pg from 'pg';

export interface Migration {
  version: number;
  /** One or more statements. */
  sql: string;
}

export class SchemaTooNewError extends Error {
  constructor(component: string, found: number, known: number) {
    super(`the database's ${component} schema is version ${found}, newer than this release knows (${known}): run the newer release, or restore a backup made by this one`);
  }
}

/** Pure: the migrations still to run on a database at `current`, in order. */
export function pendingMigrations(component: string, current: number, migrations: Migration[]): Migration[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`${component} migrations must be numbered 1, 2, 3…: found ${m.version} at position ${i + 1}`);
  });
  const latest = sorted.length;
  if (current > latest) throw new SchemaTooNewError(component, current, latest);
  return sorted.slice(current);
}

const VERSIONS_DDL = 'CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)';

/** Brings a SQLite file's `component` up to date; returns the versions before and after. */
export function migrateSqlite(db: Database.Database, component: string, migrations: Migration[]): { from: number; to: number } {
  db.exec(VERSIONS_DDL);
  // IMMEDIATE: a second process opening the same file at once waits, then finds the work done.
  return db.transaction(() => {
    const row = db.prepare<[string], { version: number }>('SELECT version FROM schema_versions WHERE component = ?').get(component);
    const from = row?.version ?? 0;
    const todo = pendingMigrations(component, from, migrations);
    for (const m of todo) db.exec(m.sql);
    const to = from + todo.length;
    if (todo.length) db.prepare('INSERT INTO schema_versions (component, version) VALUES (?, ?) ON CONFLICT(component) DO UPDATE SET version = excluded.version').run(component, to);
    return { from, to };
  }).immediate();
}

/** The same on PostgreSQL, on a client the caller holds the migration advisory lock with. */
export async function migratePg(client: pg.PoolClient | pg.Client, component: string, migrations: Migration[]): Promise<{ from: number; to: number }> {
  await client.query(VERSIONS_DDL);
  await client.query('BEGIN');
  try {
    const r = await client.query<{ version: number }>('SELECT version FROM schema_versions WHERE component = $1', [component]);
    const from = r.rows[0]?.version ?? 0;
    const todo = pendingMigrations(component, from, migrations);
    for (const m of todo) await client.query(m.sql);
    const to = from + todo.length;
    if (todo.length) await client.query('INSERT INTO schema_versions (component, version) VALUES ($1, $2) ON CONFLICT (component) DO UPDATE SET version = excluded.version', [component, to]);
    await client.query('COMMIT');
    return { from, to };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
