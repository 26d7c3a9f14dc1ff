// npm run db:backup [-- <dest.sqlite>]: a consistent copy of the server's SQLite store, taken while the
// server runs (server/db/sqlite-backup.ts). The store is DB_FILE, else <DATA_DIR>/lablab.sqlite; the
// copy goes to <dest>, else <DATA_DIR>/backups/lablab-<time>.sqlite. With DATABASE_URL (PostgreSQL)
// there is no file to copy: it says to use pg_dump.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../config.ts';
import { backupSqlite } from '../db/sqlite-backup.ts';

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let a: { data?: string };
  let dest: string[];
  try {
    const parsed = parseArgs({ args: argv, options: { data: { type: 'string' } }, strict: true, allowPositionals: true });
    a = parsed.values;
    dest = parsed.positionals;
  } catch (err) {
    console.error(`db:backup: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  if (env.DATABASE_URL) {
    console.error('db:backup: DATABASE_URL is set: the store is PostgreSQL; back it up with pg_dump (see the README, "Data dir, backups and upgrades")');
    return 2;
  }
  if (dest.length > 1) {
    console.error('db:backup: one destination file at most');
    return 2;
  }
  const cwd = process.cwd();
  const given = a.data ?? env.DATA_DIR;
  const dataDir = given ? path.resolve(cwd, given) : defaultDataDir(cwd);
  const source = env.DB_FILE ? path.resolve(cwd, env.DB_FILE) : path.join(dataDir, 'lablab.sqlite');
  const to = dest[0] ? path.resolve(cwd, dest[0]) : path.join(dataDir, 'backups', `lablab-${new Date().toISOString().replace(/[:.]/g, '-')}.sqlite`);
  try {
    const { pages } = await backupSqlite(source, to);
    console.log(`db:backup: ${source} -> ${to} (${pages} pages, integrity ok)`);
    return 0;
  } catch (err) {
    console.error(`db:backup: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

main(process.argv.slice(2), process.env).then((code) => process.exit(code));
