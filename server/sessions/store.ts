// Durable state in one SQLite file: learners' sessions, their sandboxes and check progress. Everything the server needs to pick up where it was after a restart.
import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import type { CheckView, SessionPhase } from '../protocol/realtime.ts';

export interface SessionRecord {
  id: string;
  learnerId: string;
  labId: string;
  phase: SessionPhase;
  createdAt: number;
  expiresAt: number;
  /** Why the session is in its phase, for the learner ("expired after 4 hours"). */
  message?: string;
}

export interface ProgressRow extends CheckView {
  labId: string;
  updatedAt: number;
}

export interface Store {
  secret(): string;
  /** The cookie secret an older version kept here, removed as it is read (it moves to a 0600 file). */
  takeLegacySecret(): string | undefined;
  saveSession(s: SessionRecord): void;
  session(id: string): SessionRecord | undefined;
  /** The learner's newest session for a lab that is still queued, starting or ready. */
  liveSessionFor(learnerId: string, labId: string): SessionRecord | undefined;
  liveSessions(): SessionRecord[];
  recentSessions(limit: number): SessionRecord[];
  saveSandboxes(sessionId: string, refs: SandboxRef[]): void;
  sandboxes(sessionId: string): SandboxRef[];
  saveProgress(learnerId: string, labId: string, views: CheckView[], now: number): void;
  progress(learnerId: string, labId: string): ProgressRow[];
  /** Every progress row of a lab, for the host's view. */
  labProgress(labId: string): (ProgressRow & { learnerId: string })[];
  close(): void;
}

const SCHEMA = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, learner_id TEXT NOT NULL, lab_id TEXT NOT NULL, phase TEXT NOT NULL,
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, message TEXT
);
CREATE INDEX IF NOT EXISTS sessions_learner ON sessions (learner_id, lab_id);
CREATE TABLE IF NOT EXISTS sandboxes (
  session_id TEXT NOT NULL, node INTEGER NOT NULL, ref TEXT NOT NULL, PRIMARY KEY (session_id, node)
);
CREATE TABLE IF NOT EXISTS progress (
  learner_id TEXT NOT NULL, lab_id TEXT NOT NULL, check_id TEXT NOT NULL, step_id TEXT NOT NULL,
  status TEXT NOT NULL, message TEXT NOT NULL, actual TEXT, expected TEXT, updated_at INTEGER NOT NULL,
  PRIMARY KEY (learner_id, lab_id, check_id)
);
`;

const LIVE = `('queued','starting','ready')`;

interface SessionRow { id: string; learner_id: string; lab_id: string; phase: string; created_at: number; expires_at: number; message: string | null }
interface ProgressDbRow { learner_id: string; lab_id: string; check_id: string; step_id: string; status: string; message: string; actual: string | null; expected: string | null; updated_at: number }

function toSession(r: SessionRow): SessionRecord {
  return { id: r.id, learnerId: r.learner_id, labId: r.lab_id, phase: r.phase as SessionPhase, createdAt: r.created_at, expiresAt: r.expires_at, message: r.message ?? undefined };
}

function toProgress(r: ProgressDbRow): ProgressRow & { learnerId: string } {
  return {
    learnerId: r.learner_id, labId: r.lab_id, id: r.check_id, stepId: r.step_id, status: r.status as CheckView['status'],
    message: r.message, actual: r.actual ?? undefined, expected: r.expected ?? undefined, updatedAt: r.updated_at,
  };
}

export function openStore(file: string): Store {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.exec(SCHEMA);

  const q = {
    getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?'),
    setSetting: db.prepare('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)'),
    upsertSession: db.prepare(`INSERT INTO sessions (id, learner_id, lab_id, phase, created_at, expires_at, message)
      VALUES (@id, @learnerId, @labId, @phase, @createdAt, @expiresAt, @message)
      ON CONFLICT(id) DO UPDATE SET phase = excluded.phase, expires_at = excluded.expires_at, message = excluded.message`),
    session: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
    liveFor: db.prepare<[string, string], SessionRow>(`SELECT * FROM sessions WHERE learner_id = ? AND lab_id = ? AND phase IN ${LIVE} ORDER BY created_at DESC LIMIT 1`),
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
  };

  const replaceSandboxes = db.transaction((sessionId: string, refs: SandboxRef[]) => {
    q.delSandboxes.run(sessionId);
    for (const r of refs) q.addSandbox.run(sessionId, r.node, JSON.stringify(r));
  });
  const saveProgressTx = db.transaction((rows: object[]) => {
    for (const r of rows) q.upsertProgress.run(r);
  });

  return {
    secret() {
      const existing = q.getSetting.get('cookie-secret');
      if (existing) return existing.value;
      q.setSetting.run('cookie-secret', crypto.randomBytes(32).toString('base64url'));
      return q.getSetting.get('cookie-secret')!.value;
    },
    takeLegacySecret() {
      const existing = q.getSetting.get('cookie-secret');
      if (existing) db.prepare('DELETE FROM settings WHERE key = ?').run('cookie-secret');
      return existing?.value;
    },
    saveSession: (s) => void q.upsertSession.run({ ...s, message: s.message ?? null }),
    session: (id) => {
      const r = q.session.get(id);
      return r ? toSession(r) : undefined;
    },
    liveSessionFor: (learnerId, labId) => {
      const r = q.liveFor.get(learnerId, labId);
      return r ? toSession(r) : undefined;
    },
    liveSessions: () => q.live.all().map(toSession),
    recentSessions: (limit) => q.recent.all(limit).map(toSession),
    saveSandboxes: (sessionId, refs) => replaceSandboxes(sessionId, refs),
    sandboxes: (sessionId) => q.sandboxes.all(sessionId).map((r) => JSON.parse(r.ref) as SandboxRef),
    saveProgress: (learnerId, labId, views, now) =>
      saveProgressTx(views.map((v) => ({ learnerId, labId, id: v.id, stepId: v.stepId, status: v.status, message: v.message, actual: v.actual ?? null, expected: v.expected ?? null, updatedAt: now }))),
    progress: (learnerId, labId) => q.progress.all(learnerId, labId).map(toProgress),
    labProgress: (labId) => q.labProgress.all(labId).map(toProgress),
    close: () => db.close(),
  };
}
