// A PostgreSQL pool for one of our stores: BIGINT times read as numbers, an idle connection that
// drops does not end the process, and the store's schema applied under an advisory lock.
import pg from 'pg';
import { migratePg, type Migration } from './migrations.ts';

// BIGINT (oid 20) comes back as a string by default; our millisecond times fit a double.
const types = { getTypeParser: ((oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser };

/**
 * The component's pending migrations run at every open (migrations.ts); the lock keeps replicas
 * starting at once from racing on them (IF NOT EXISTS is not safe against a concurrent create in PostgreSQL).
 */
export async function openPgPool(url: string, component: string, migrations: Migration[], migrationLock: number): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, max: 4, types });
  // An idle connection that drops (a restarted database) is emitted here; left unheard it would
  // kill the process. The pool opens a new one, and the next query reports a lasting outage.
  pool.on('error', () => {});
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [migrationLock]);
    await migratePg(client, component, migrations);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [migrationLock]).catch(() => {});
    client.release();
  }
  return pool;
}
