// The event store's tables, as migrations (server/db/migrations.ts): append, never edit one that
// has shipped. 1 is the schema of the releases before versions were recorded (idempotent on purpose).
import type { Migration } from '../db/migrations.ts';

export const EVENT_MIGRATIONS: { sqlite: Migration[]; pg: Migration[] } = {
  sqlite: [
    { version: 1, sql: `
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, labs TEXT NOT NULL,
  starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL, expected INTEGER NOT NULL, capacity INTEGER,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS event_participants (
  event_id TEXT NOT NULL, learner_id TEXT NOT NULL, name TEXT NOT NULL, joined_at INTEGER NOT NULL,
  PRIMARY KEY (event_id, learner_id)
);
CREATE INDEX IF NOT EXISTS event_participants_learner ON event_participants (learner_id);
CREATE TABLE IF NOT EXISTS event_messages (
  event_id TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS event_messages_event ON event_messages (event_id, at);
` },
  ],
  pg: [
    { version: 1, sql: `
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, labs TEXT NOT NULL,
  starts_at BIGINT NOT NULL, ends_at BIGINT NOT NULL, expected INTEGER NOT NULL, capacity INTEGER,
  created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS event_participants (
  event_id TEXT NOT NULL, learner_id TEXT NOT NULL, name TEXT NOT NULL, joined_at BIGINT NOT NULL,
  PRIMARY KEY (event_id, learner_id)
);
CREATE INDEX IF NOT EXISTS event_participants_learner ON event_participants (learner_id);
CREATE TABLE IF NOT EXISTS event_messages (
  seq BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL, text TEXT NOT NULL, at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS event_messages_event ON event_messages (event_id, at);
` },
  ],
};
