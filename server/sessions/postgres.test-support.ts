// Tests' PostgreSQL: TEST_DATABASE_URL when given, else a cluster of our own (see ensureTestPostgres),
// listening on a unix socket only, started when absent (like dockerd in setup.sh). Each caller
// gets a fresh database and drops it when done.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = '/usr/lib/postgresql/15/bin';
const SHARED_BASE = '/var/lib/lablab';

function asPostgres(cmd: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  execFileSync(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args, { stdio: 'pipe' });
}

/** A server URL (database `postgres`) for our cluster, started if it is not running. */
export function ensureTestPostgres(dataDir = process.env.DATA_DIR ?? path.join(ROOT, '.data')): string {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  const root = process.getuid?.() === 0;
  // The cluster runs as the postgres user, who must be able to walk to it. Under the checkout that can
  // fail (a CI clone inside a private 0700 temp dir), so as root it lives in /var/lib/lablab, one per
  // data dir; otherwise beside the data dir as before.
  const base = root ? path.join(SHARED_BASE, `pg-${crypto.createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 10)}`) : dataDir;
  const dir = path.join(base, 'pg');
  const sock = path.join(base, 'pg-run');
  if (root) {
    fs.mkdirSync(base, { recursive: true });
    fs.chmodSync(SHARED_BASE, 0o755);
    fs.chmodSync(base, 0o755);
  }
  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
    // The cluster dir itself stays 0700, owned by postgres.
    fs.mkdirSync(base, { recursive: true });
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
