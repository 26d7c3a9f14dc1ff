// The embedded store: one SQLite file. better-sqlite3 is synchronous; the async interface around it
// costs a microtask and lets the same callers use PostgreSQL.
import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import { migrateSqlite } from '../db/migrations.ts';
import { SESSION_MIGRATIONS } from './schema.ts';
import { capRefusal, type CapRefusal, type SessionCaps } from './caps.ts';
import { LIVE_PHASES, toProgress, toSession, type ProgressDbRow, type SessionRecord, type SessionRow, type Store } from './store.ts';

// Per connection; the tables come from SESSION_MIGRATIONS (schema.ts), applied forward at every open.
const PRAGMAS = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA busy_timeout = 5000;
`;

const LIVE = `(${LIVE_PHASES.map((p) => `'${p}'`).join(',')})`;

export function openSqliteStore(file: string): Store {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.exec(PRAGMAS);
  migrateSqlite(db, 'sessions', SESSION_MIGRATIONS.sqlite);

  const q = {
    getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?'),
    setSetting: db.prepare('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)'),
    delSetting: db.prepare('DELETE FROM settings WHERE key = ?'),
    upsertSession: db.prepare(`INSERT INTO sessions (id, learner_id, lab_id, phase, created_at, expires_at, message)
      VALUES (@id, @learnerId, @labId, @phase, @createdAt, @expiresAt, @message)
      ON CONFLICT(id) DO UPDATE SET phase = excluded.phase, expires_at = excluded.expires_at, message = excluded.message`),
    session: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
    liveFor: db.prepare<[string, string], SessionRow>(`SELECT * FROM sessions WHERE learner_id = ? AND lab_id = ? AND phase IN ${LIVE} ORDER BY created_at DESC LIMIT 1`),
    insertSession: db.prepare(`INSERT INTO sessions (id, learner_id, lab_id, phase, created_at, expires_at, message, address)
      VALUES (@id, @learnerId, @labId, @phase, @createdAt, @expiresAt, @message, @address)`),
    liveOfLearner: db.prepare<[string], { n: number }>(`SELECT COUNT(*) AS n FROM sessions WHERE learner_id = ? AND phase IN ${LIVE}`),
    liveOfAddress: db.prepare<[string], { n: number }>(`SELECT COUNT(*) AS n FROM sessions WHERE address = ? AND phase IN ${LIVE}`),
    live: db.prepare<[], SessionRow>(`SELECT * FROM sessions WHERE phase IN ${LIVE} ORDER BY created_at`),
    recent: db.prepare<[number], SessionRow>('SELECT * FROM sessions ORDER BY created_at DESC LIMIT ?'),
    delSandboxes: db.prepare('DELETE FROM sandboxes WHERE session_id = ?'),
    addSandbox: db.prepare('INSERT INTO sandboxes (session_id, node, ref) VALUES (?, ?, ?)'),
    sandboxes: db.prepare<[string], { ref: string }>('SELECT ref FROM sandboxes WHERE session_id = ? ORDER BY node'),
    upsertProgress: db.prepare(`INSERT INTO progress (learner_id, lab_id, check_id, step_id, status, message, actual, expected, updated_at)
      VALUES (@learnerId, @labId, @id, @stepId, @status, @message, @actual, @expected, @updatedAt)
      ON CONFLICT(learner_id, lab_id, check_id) DO UPDATE SET status = excluded.status, message = excluded.message,
        actual = excluded.actual, expected = excluded.expected, updated_at = excluded.updated_at, step_id = excluded.step_id`),
    progress: db.prepare<[string, string], ProgressDbRow>('SELECT * FROM progress WHERE learner_id = ? AND lab_id = ?'),
    labProgress: db.prepare<[string], ProgressDbRow>('SELECT * FROM progress WHERE lab_id = ?'),
    upsertVariable: db.prepare(`INSERT INTO variables (learner_id, lab_id, name, value, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(learner_id, lab_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
    variables: db.prepare<[string, string], { name: string; value: string }>('SELECT name, value FROM variables WHERE learner_id = ? AND lab_id = ?'),
    // One statement: the conflict branch only fires for our own or an expired lease, so two
    // processes on one file can never both come out holding it.
    takeLease: db.prepare<[string, string, number, number], { holder: string }>(`INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
      WHERE leases.holder = excluded.holder OR leases.expires_at <= ? RETURNING holder`),
    releaseLease: db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?'),
  };

  const replaceSandboxes = db.transaction((sessionId: string, refs: SandboxRef[]) => {
    q.delSandboxes.run(sessionId);
    for (const r of refs) q.addSandbox.run(sessionId, r.node, JSON.stringify(r));
  });
  // IMMEDIATE: the write lock is taken before the counts, so another connection (process) waits.
  const createWithin = (s: SessionRecord, caps: SessionCaps): CapRefusal | undefined =>
    db.transaction(() => {
      const refused = capRefusal(caps, q.liveOfLearner.get(s.learnerId)!.n, caps.perAddress === undefined ? 0 : q.liveOfAddress.get(caps.address)!.n);
      if (!refused) q.insertSession.run({ ...s, message: s.message ?? null, address: caps.address });
      return refused;
    }).immediate();
  const saveVariablesTx = db.transaction((learnerId: string, labId: string, values: Record<string, string>, now: number) => {
    for (const [name, value] of Object.entries(values)) q.upsertVariable.run(learnerId, labId, name, value, now);
  });
  const saveProgressTx = db.transaction((rows: object[]) => {
    for (const r of rows) q.upsertProgress.run(r);
  });

  return {
    async secret() {
      q.setSetting.run('cookie-secret', crypto.randomBytes(32).toString('base64url'));
      return q.getSetting.get('cookie-secret')!.value;
    },
    async takeLegacySecret() {
      const existing = q.getSetting.get('cookie-secret');
      if (existing) q.delSetting.run('cookie-secret');
      return existing?.value;
    },
    saveSession: async (s) => void q.upsertSession.run({ ...s, message: s.message ?? null }),
    createSession: async (s, caps) => createWithin(s, caps),
    session: async (id) => {
      const r = q.session.get(id);
      return r ? toSession(r) : undefined;
    },
    liveSessionFor: async (learnerId, labId) => {
      const r = q.liveFor.get(learnerId, labId);
      return r ? toSession(r) : undefined;
    },
    liveSessions: async () => q.live.all().map(toSession),
    recentSessions: async (limit) => q.recent.all(limit).map(toSession),
    saveSandboxes: async (sessionId, refs) => replaceSandboxes(sessionId, refs),
    sandboxes: async (sessionId) => q.sandboxes.all(sessionId).map((r) => JSON.parse(r.ref) as SandboxRef),
    saveProgress: async (learnerId, labId, views, now) =>
      saveProgressTx(views.map((v) => ({ learnerId, labId, id: v.id, stepId: v.stepId, status: v.status, message: v.message, actual: v.actual ?? null, expected: v.expected ?? null, updatedAt: now }))),
    progress: async (learnerId, labId) => q.progress.all(learnerId, labId).map(toProgress),
    labProgress: async (labId) => q.labProgress.all(labId).map(toProgress),
    saveVariables: async (learnerId, labId, values, now) => saveVariablesTx(learnerId, labId, values, now),
    variables: async (learnerId, labId) => Object.fromEntries(q.variables.all(learnerId, labId).map((r) => [r.name, r.value])),
    takeLease: async (name, holder, ttlMs, now) => q.takeLease.get(name, holder, now + ttlMs, now)?.holder === holder,
    releaseLease: async (name, holder) => void q.releaseLease.run(name, holder),
    close: async () => void db.close(),
  };
}
