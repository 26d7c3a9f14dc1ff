// Tests' PostgreSQL: TEST_DATABASE_URL when given, else a cluster of our own in <data dir>/pg,
// listening on a unix socket only, started when absent (like dockerd in setup.sh). Each caller
// gets a fresh database and drops it when done.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = '/usr/lib/postgresql/15/bin';

function asPostgres(cmd: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  execFileSync(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args, { stdio: 'pipe' });
}

/** A server URL (database `postgres`) for our cluster, started if it is not running. */
export function ensureTestPostgres(dataDir = process.env.DATA_DIR ?? path.join(ROOT, '.data')): string {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  const dir = path.join(dataDir, 'pg');
  const sock = path.join(dataDir, 'pg-run');
  const root = process.getuid?.() === 0;
  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
    // The cluster's owner (postgres) must be able to walk into the data dir; the cluster dir stays 0700.
    fs.mkdirSync(dataDir, { recursive: true });
    fs.mkdirSync(dir, { mode: 0o700 });
    if (root) execFileSync('chown', ['postgres:postgres', dir]);
    asPostgres(`${BIN}/initdb`, ['-D', dir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  }
  fs.mkdirSync(sock, { recursive: true });
  if (root) execFileSync('chown', ['postgres:postgres', sock]);
  try {
    asPostgres(`${BIN}/pg_ctl`, ['-D', dir, 'status']);
  } catch {
    // No TCP: a unix socket under our data dir, so nothing else on the machine is touched.
    asPostgres(`${BIN}/pg_ctl`, ['-D', dir, '-w', '-l', path.join(dir, 'server.log'), '-o', `-k ${sock} -c listen_addresses='' -c fsync=off`, 'start']);
  }
  return `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(sock)}`;
}

/** A new empty database on the test cluster; `drop()` removes it. */
export async function createTestDatabase(prefix = 'lablab_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const server = ensureTestPostgres();
  const name = `${prefix}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = server.replace('/postgres?', `/${name}?`);
  return {
    url,
    async drop() {
      const c = new pg.Client({ connectionString: server });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
