// The access tables (share links, ssh one-time tokens, ssh public keys), as migrations of their own
// component "access" (server/db/migrations.ts): append, never edit one that has shipped. A component
// of its own, like the workshop's, so it moves independently of the sessions' numbering.
import type { Migration } from '../db/migrations.ts';

const tables = (int: string) => `
CREATE TABLE IF NOT EXISTS share_links (
  id TEXT PRIMARY KEY, session_id TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, mode TEXT NOT NULL,
  created_at ${int} NOT NULL
);
CREATE INDEX IF NOT EXISTS share_links_session ON share_links (session_id);
CREATE TABLE IF NOT EXISTS ssh_tokens (
  token_hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, expires_at ${int} NOT NULL
);
CREATE INDEX IF NOT EXISTS ssh_tokens_session ON ssh_tokens (session_id);
CREATE TABLE IF NOT EXISTS ssh_keys (
  session_id TEXT NOT NULL, fingerprint TEXT NOT NULL, public_key TEXT NOT NULL, comment TEXT NOT NULL,
  added_at ${int} NOT NULL, PRIMARY KEY (session_id, fingerprint)
);
`;

export const ACCESS_MIGRATIONS: { sqlite: Migration[]; pg: Migration[] } = {
  sqlite: [{ version: 1, sql: tables('INTEGER') }],
  pg: [{ version: 1, sql: tables('BIGINT') }],
};
