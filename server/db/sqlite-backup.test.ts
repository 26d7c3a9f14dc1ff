// npm run db:backup while another process writes to the store without pause: the copy passes SQLite's
// integrity check, stands alone (no -wal beside it), and holds every session committed before the
// backup began. A plain file copy fails this: the rows still in the write-ahead log are not in it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../sessions/sqlite-store.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-backup-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// The writer: a session a time, as fast as it goes, until killed. Its connection never checkpoints
// (as when readers starve the checkpointer), so the committed rows stay in the write-ahead log.
const WRITER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('wal_autocheckpoint = 0');
const put = db.prepare("INSERT INTO sessions (id, learner_id, lab_id, phase, created_at, expires_at) VALUES (?, ?, 'lab', 'ready', ?, ?)");
for (let i = 0; ; i++) {
  put.run('s' + i, 'l' + i, i, i + 1);
  if (i === 300) console.log('writing');
}`;

test('a backup taken while another process writes is consistent and has every row committed before it began', async () => {
  const file = path.join(dir, 'lablab.sqlite');
  await openSqliteStore(file).close();
  const writer = spawn(process.execPath, ['-e', WRITER, file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      writer.stdout!.on('data', (d) => String(d).includes('writing') && resolve());
      writer.once('exit', (c) => reject(new Error(`writer exited ${c}`)));
    });
    const reader = new Database(file, { readonly: true });
    const before = reader.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM sessions').get()!.n;
    reader.close();
    const dest = path.join(dir, 'copy.sqlite');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli/db-backup.ts', dest], { cwd: ROOT, env: { ...process.env, DB_FILE: file, DATABASE_URL: '' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /integrity ok/);
    const still = new Database(file, { readonly: true });
    const afterwards = still.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM sessions').get()!.n;
    still.close();
    assert.ok(afterwards > before, 'the writer kept writing during the backup');
    assert.ok(!fs.existsSync(`${dest}-wal`), 'the copy stands alone');
    const copy = new Database(dest, { readonly: true });
    assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
    const n = copy.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM sessions').get()!.n;
    assert.ok(n >= before, `the copy has ${n} sessions, ${before} were committed before the backup began`);
    // Rows are whole, and the copy is a store today's code opens.
    assert.equal(copy.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM sessions WHERE expires_at = created_at + 1 AND id = 's' || created_at").get()!.n, n);
    copy.close();
    const reopened = openSqliteStore(dest);
    assert.equal((await reopened.session('s0'))?.learnerId, 'l0');
    await reopened.close();
  } finally {
    writer.kill('SIGKILL');
  }
});

test('db:backup refuses an existing destination, a missing database, and PostgreSQL (pointing to pg_dump)', () => {
  const run = (env: Record<string, string>, ...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'server/cli/db-backup.ts', ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: '', ...env }, encoding: 'utf8' });
  const exists = path.join(dir, 'exists.sqlite');
  fs.writeFileSync(exists, '');
  assert.match(run({ DB_FILE: path.join(dir, 'lablab.sqlite') }, exists).stderr, /exists; name a new file/);
  assert.match(run({ DB_FILE: path.join(dir, 'nothing.sqlite') }, path.join(dir, 'x.sqlite')).stderr, /no database at/);
  const pg = run({ DATABASE_URL: 'postgresql://localhost/x' });
  assert.equal(pg.status, 2);
  assert.match(pg.stderr, /pg_dump/);
});
