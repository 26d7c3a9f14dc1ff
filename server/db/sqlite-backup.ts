// A consistent copy of the SQLite store while the server writes to it: SQLite's online backup API
// (better-sqlite3's backup()), which copies page by page and restarts over pages a writer changed,
// so the copy is one committed state of the database, with what the write-ahead log holds. A plain
// file copy is not: it misses the log and can catch a page half-written.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

export async function backupSqlite(source: string, dest: string): Promise<{ pages: number }> {
  if (!fs.existsSync(source)) throw new Error(`no database at ${source} (set DB_FILE or DATA_DIR to the server's)`);
  if (fs.existsSync(dest)) throw new Error(`${dest} exists; name a new file`);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    let pages = 0;
    await db.backup(dest, { progress: (p) => ((pages = p.totalPages), 200) });
    // The copy is a standalone file: one that needs no -wal beside it.
    const copy = new Database(dest);
    copy.pragma('journal_mode = DELETE');
    const ok = copy.pragma('integrity_check', { simple: true });
    copy.close();
    if (ok !== 'ok') throw new Error(`the copy at ${dest} failed its integrity check: ${String(ok)}`);
    return { pages };
  } finally {
    db.close();
  }
}
