// The session store's tables, as migrations (server/db/migrations.ts): append, never edit one that
// has shipped. 1 is the schema of the releases before versions were recorded (idempotent on purpose).
import type { Migration } from '../db/migrations.ts';

const PHASE_INDEX = 'CREATE INDEX IF NOT EXISTS sessions_phase ON sessions (phase)';
const ADDRESS = 'ALTER TABLE sessions ADD COLUMN address TEXT';
/** A learner's values of a lab's variables ($$name$$): kept per learner and lab, like progress. */
const VARIABLES = (int: string) => `CREATE TABLE IF NOT EXISTS variables (
  learner_id TEXT NOT NULL, lab_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, updated_at ${int} NOT NULL,
  PRIMARY KEY (learner_id, lab_id, name)
)`;

export const SESSION_MIGRATIONS: { sqlite: Migration[]; pg: Migration[] } = {
  sqlite: [
    { version: 1, sql: `
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
CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL);
` },
    // Live sessions are listed by phase at every reap and admission.
    { version: 2, sql: PHASE_INDEX },
    // The address a session came from: the per-address cap is counted in the same step as the insert.
    { version: 3, sql: ADDRESS },
    { version: 4, sql: VARIABLES('INTEGER') },
  ],
  pg: [
    { version: 1, sql: `
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, learner_id TEXT NOT NULL, lab_id TEXT NOT NULL, phase TEXT NOT NULL,
  created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, message TEXT
);
CREATE INDEX IF NOT EXISTS sessions_learner ON sessions (learner_id, lab_id);
CREATE TABLE IF NOT EXISTS sandboxes (
  session_id TEXT NOT NULL, node INTEGER NOT NULL, ref TEXT NOT NULL, PRIMARY KEY (session_id, node)
);
CREATE TABLE IF NOT EXISTS progress (
  learner_id TEXT NOT NULL, lab_id TEXT NOT NULL, check_id TEXT NOT NULL, step_id TEXT NOT NULL,
  status TEXT NOT NULL, message TEXT NOT NULL, actual TEXT, expected TEXT, updated_at BIGINT NOT NULL,
  PRIMARY KEY (learner_id, lab_id, check_id)
);
CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at BIGINT NOT NULL);
` },
    { version: 2, sql: PHASE_INDEX },
    { version: 3, sql: ADDRESS },
    { version: 4, sql: VARIABLES('BIGINT') },
  ],
};
