// Access (share links, ssh credentials) on the embedded SQLite file, its own connection beside the
// sessions' (WAL lets both share the file).
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { migrateSqlite } from '../db/migrations.ts';
import { ACCESS_MIGRATIONS } from './schema.ts';
import { toKey, toShare, type AccessStore, type KeyRow, type ShareRow } from './access-store.ts';

export function openSqliteAccessStore(file: string): AccessStore {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;');
  migrateSqlite(db, 'access', ACCESS_MIGRATIONS.sqlite);
  const q = {
    addShare: db.prepare('INSERT INTO share_links (id, session_id, token_hash, mode, created_at) VALUES (?, ?, ?, ?, ?)'),
    shareByHash: db.prepare<[string], ShareRow>('SELECT id, session_id, mode, created_at FROM share_links WHERE token_hash = ?'),
    shares: db.prepare<[string], ShareRow>('SELECT id, session_id, mode, created_at FROM share_links WHERE session_id = ? ORDER BY created_at, id'),
    removeShare: db.prepare('DELETE FROM share_links WHERE session_id = ? AND id = ?'),
    addToken: db.prepare('INSERT INTO ssh_tokens (token_hash, session_id, expires_at) VALUES (?, ?, ?)'),
    takeToken: db.prepare('DELETE FROM ssh_tokens WHERE token_hash = ? AND session_id = ? AND expires_at > ?'),
    dropExpired: db.prepare('DELETE FROM ssh_tokens WHERE expires_at <= ?'),
    countTokens: db.prepare<[string, number], { n: number }>('SELECT COUNT(*) AS n FROM ssh_tokens WHERE session_id = ? AND expires_at > ?'),
    addKey: db.prepare(`INSERT INTO ssh_keys (session_id, fingerprint, public_key, comment, added_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(session_id, fingerprint) DO UPDATE SET comment = excluded.comment`),
    keys: db.prepare<[string], KeyRow>('SELECT * FROM ssh_keys WHERE session_id = ? ORDER BY added_at, fingerprint'),
    removeKey: db.prepare('DELETE FROM ssh_keys WHERE session_id = ? AND fingerprint = ?'),
    sessionsWithAccess: db.prepare<[], { session_id: string }>('SELECT session_id FROM share_links UNION SELECT session_id FROM ssh_tokens UNION SELECT session_id FROM ssh_keys'),
  };
  const forget = db.transaction((sid: string) => {
    for (const t of ['share_links', 'ssh_tokens', 'ssh_keys']) db.prepare(`DELETE FROM ${t} WHERE session_id = ?`).run(sid);
  });
  return {
    addShare: async (l, hash) => void q.addShare.run(l.id, l.sessionId, hash, l.mode, l.createdAt),
    shareByHash: async (hash) => {
      const r = q.shareByHash.get(hash);
      return r ? toShare(r) : undefined;
    },
    shares: async (sid) => q.shares.all(sid).map(toShare),
    removeShare: async (sid, id) => q.removeShare.run(sid, id).changes > 0,
    addSshToken: async (sid, hash, expiresAt) => void q.addToken.run(hash, sid, expiresAt),
    takeSshToken: async (sid, hash, now) => {
      const taken = q.takeToken.run(hash, sid, now).changes > 0;
      q.dropExpired.run(now);
      return taken;
    },
    sshTokenCount: async (sid, now) => q.countTokens.get(sid, now)!.n,
    addSshKey: async (k) => void q.addKey.run(k.sessionId, k.fingerprint, k.publicKey, k.comment, k.addedAt),
    sshKeys: async (sid) => q.keys.all(sid).map(toKey),
    removeSshKey: async (sid, fp) => q.removeKey.run(sid, fp).changes > 0,
    forgetSession: async (sid) => forget(sid),
    forgetAllBut: async (live) => {
      const keep = new Set(live);
      let n = 0;
      for (const { session_id } of q.sessionsWithAccess.all()) {
        if (keep.has(session_id)) continue;
        forget(session_id);
        n++;
      }
      return n;
    },
    close: async () => void db.close(),
  };
}
