// The shared store for several replicas: PostgreSQL through `pg`, same tables as SQLite.
import crypto from 'node:crypto';
import type pg from 'pg';
import { openPgPool } from '../db/pg-pool.ts';
import { SESSION_MIGRATIONS } from './schema.ts';
import { capRefusal, type CapRefusal } from './caps.ts';
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import { LIVE_PHASES, toProgress, toSession, type ProgressDbRow, type SessionRow, type Store } from './store.ts';

const MIGRATION_LOCK = 0x1ab1ab;
/** Held for the length of a session create's transaction: the caps' counts and the insert are one step. */
const CREATE_LOCK = 0x1ab1ad;
const LIVE = `(${LIVE_PHASES.map((p) => `'${p}'`).join(',')})`;

export async function openPgStore(url: string): Promise<Store> {
  const pool = await openPgPool(url, 'sessions', SESSION_MIGRATIONS.pg, MIGRATION_LOCK);
  const rows = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => (await pool.query(sql, params)).rows as T[];
  const tx = async (fn: (c: pg.PoolClient) => Promise<void>): Promise<void> => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await fn(c);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  };

  return {
    async secret() {
      await pool.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', ['cookie-secret', crypto.randomBytes(32).toString('base64url')]);
      return (await rows<{ value: string }>('SELECT value FROM settings WHERE key = $1', ['cookie-secret']))[0]!.value;
    },
    async takeLegacySecret() {
      return (await rows<{ value: string }>('DELETE FROM settings WHERE key = $1 RETURNING value', ['cookie-secret']))[0]?.value;
    },
    async saveSession(s) {
      await pool.query(`INSERT INTO sessions (id, learner_id, lab_id, phase, created_at, expires_at, message) VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (id) DO UPDATE SET phase = excluded.phase, expires_at = excluded.expires_at, message = excluded.message`,
      [s.id, s.learnerId, s.labId, s.phase, s.createdAt, s.expiresAt, s.message ?? null]);
    },
    async createSession(s, caps) {
      let refused: CapRefusal | undefined;
      await tx(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [CREATE_LOCK]);
        const count = async (col: string, v: string) => Number((await c.query<{ n: string }>(`SELECT COUNT(*) AS n FROM sessions WHERE ${col} = $1 AND phase IN ${LIVE}`, [v])).rows[0]!.n);
        refused = capRefusal(caps, await count('learner_id', s.learnerId), caps.perAddress === undefined ? 0 : await count('address', caps.address));
        if (refused) return;
        await c.query('INSERT INTO sessions (id, learner_id, lab_id, phase, created_at, expires_at, message, address) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
          [s.id, s.learnerId, s.labId, s.phase, s.createdAt, s.expiresAt, s.message ?? null, caps.address]);
      });
      return refused;
    },
    session: async (id) => (await rows<SessionRow>('SELECT * FROM sessions WHERE id = $1', [id])).map(toSession)[0],
    liveSessionFor: async (learnerId, labId) =>
      (await rows<SessionRow>(`SELECT * FROM sessions WHERE learner_id = $1 AND lab_id = $2 AND phase IN ${LIVE} ORDER BY created_at DESC LIMIT 1`, [learnerId, labId])).map(toSession)[0],
    liveSessions: async () => (await rows<SessionRow>(`SELECT * FROM sessions WHERE phase IN ${LIVE} ORDER BY created_at`)).map(toSession),
    recentSessions: async (limit) => (await rows<SessionRow>('SELECT * FROM sessions ORDER BY created_at DESC LIMIT $1', [limit])).map(toSession),
    saveSandboxes: (sessionId, refs) =>
      tx(async (c) => {
        await c.query('DELETE FROM sandboxes WHERE session_id = $1', [sessionId]);
        for (const r of refs) await c.query('INSERT INTO sandboxes (session_id, node, ref) VALUES ($1, $2, $3)', [sessionId, r.node, JSON.stringify(r)]);
      }),
    sandboxes: async (sessionId) => (await rows<{ ref: string }>('SELECT ref FROM sandboxes WHERE session_id = $1 ORDER BY node', [sessionId])).map((r) => JSON.parse(r.ref) as SandboxRef),
    saveProgress: (learnerId, labId, views, now) =>
      tx(async (c) => {
        for (const v of views) {
          await c.query(`INSERT INTO progress (learner_id, lab_id, check_id, step_id, status, message, actual, expected, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (learner_id, lab_id, check_id) DO UPDATE SET status = excluded.status, message = excluded.message,
              actual = excluded.actual, expected = excluded.expected, updated_at = excluded.updated_at, step_id = excluded.step_id`,
          [learnerId, labId, v.id, v.stepId, v.status, v.message, v.actual ?? null, v.expected ?? null, now]);
        }
      }),
    progress: async (learnerId, labId) => (await rows<ProgressDbRow>('SELECT * FROM progress WHERE learner_id = $1 AND lab_id = $2', [learnerId, labId])).map(toProgress),
    labProgress: async (labId) => (await rows<ProgressDbRow>('SELECT * FROM progress WHERE lab_id = $1', [labId])).map(toProgress),
    saveVariables: (learnerId, labId, values, now) =>
      tx(async (c) => {
        for (const [name, value] of Object.entries(values)) {
          await c.query(`INSERT INTO variables (learner_id, lab_id, name, value, updated_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (learner_id, lab_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, [learnerId, labId, name, value, now]);
        }
      }),
    variables: async (learnerId, labId) =>
      Object.fromEntries((await rows<{ name: string; value: string }>('SELECT name, value FROM variables WHERE learner_id = $1 AND lab_id = $2', [learnerId, labId])).map((r) => [r.name, r.value])),
    // INSERT … ON CONFLICT takes a row lock, so of two replicas racing for an expired lease exactly
    // one sees its WHERE hold; the other gets no row back.
    async takeLease(name, holder, ttlMs, now) {
      const r = await rows<{ holder: string }>(`INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
        ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
        WHERE leases.holder = excluded.holder OR leases.expires_at <= $4 RETURNING holder`, [name, holder, now + ttlMs, now]);
      return r[0]?.holder === holder;
    },
    async releaseLease(name, holder) {
      await pool.query('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
    },
    close: () => pool.end(),
  };
}
