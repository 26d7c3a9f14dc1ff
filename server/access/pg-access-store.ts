// Access (share links, ssh credentials) on PostgreSQL, for replicas sharing DATABASE_URL: same tables as SQLite.
import { openPgPool } from '../db/pg-pool.ts';
import { ACCESS_MIGRATIONS } from './schema.ts';
import { toKey, toShare, type AccessStore, type KeyRow, type ShareRow } from './access-store.ts';

const MIGRATION_LOCK = 0x1ab1ad;

export async function openPgAccessStore(url: string): Promise<AccessStore> {
  const pool = await openPgPool(url, 'access', ACCESS_MIGRATIONS.pg, MIGRATION_LOCK);
  const rows = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => (await pool.query(sql, params)).rows as T[];
  const changed = async (sql: string, params: unknown[]) => ((await pool.query(sql, params)).rowCount ?? 0) > 0;
  const forget = async (sid: string) => {
    await pool.query('DELETE FROM share_links WHERE session_id = $1', [sid]);
    await pool.query('DELETE FROM ssh_tokens WHERE session_id = $1', [sid]);
    await pool.query('DELETE FROM ssh_keys WHERE session_id = $1', [sid]);
  };
  return {
    addShare: async (l, hash) => void (await pool.query('INSERT INTO share_links (id, session_id, token_hash, mode, created_at) VALUES ($1, $2, $3, $4, $5)', [l.id, l.sessionId, hash, l.mode, l.createdAt])),
    shareByHash: async (hash) => (await rows<ShareRow>('SELECT id, session_id, mode, created_at FROM share_links WHERE token_hash = $1', [hash])).map(toShare)[0],
    shares: async (sid) => (await rows<ShareRow>('SELECT id, session_id, mode, created_at FROM share_links WHERE session_id = $1 ORDER BY created_at, id', [sid])).map(toShare),
    removeShare: (sid, id) => changed('DELETE FROM share_links WHERE session_id = $1 AND id = $2', [sid, id]),
    addSshToken: async (sid, hash, expiresAt) => void (await pool.query('INSERT INTO ssh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)', [hash, sid, expiresAt])),
    async takeSshToken(sid, hash, now) {
      // One DELETE: two replicas offered the same token at once cannot both take it.
      const taken = await changed('DELETE FROM ssh_tokens WHERE token_hash = $1 AND session_id = $2 AND expires_at > $3', [hash, sid, now]);
      await pool.query('DELETE FROM ssh_tokens WHERE expires_at <= $1', [now]);
      return taken;
    },
    sshTokenCount: async (sid, now) => Number((await rows<{ n: string }>('SELECT COUNT(*) AS n FROM ssh_tokens WHERE session_id = $1 AND expires_at > $2', [sid, now]))[0]!.n),
    addSshKey: async (k) => void (await pool.query(`INSERT INTO ssh_keys (session_id, fingerprint, public_key, comment, added_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (session_id, fingerprint) DO UPDATE SET comment = excluded.comment`, [k.sessionId, k.fingerprint, k.publicKey, k.comment, k.addedAt])),
    sshKeys: async (sid) => (await rows<KeyRow>('SELECT * FROM ssh_keys WHERE session_id = $1 ORDER BY added_at, fingerprint', [sid])).map(toKey),
    removeSshKey: (sid, fp) => changed('DELETE FROM ssh_keys WHERE session_id = $1 AND fingerprint = $2', [sid, fp]),
    forgetSession: forget,
    async forgetAllBut(live) {
      const keep = new Set(live);
      const all = await rows<{ session_id: string }>('SELECT session_id FROM share_links UNION SELECT session_id FROM ssh_tokens UNION SELECT session_id FROM ssh_keys');
      let n = 0;
      for (const { session_id } of all) {
        if (keep.has(session_id)) continue;
        await forget(session_id);
        n++;
      }
      return n;
    },
    close: () => pool.end(),
  };
}
