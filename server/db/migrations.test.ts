// The store's schema version: databases made by the release before versions were recorded (0f85e6e,
// see fixtures/README.md) open with today's code, on SQLite and PostgreSQL, and every row is found;
// they are then at the latest version; a database from a newer release is refused.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pendingMigrations, SchemaTooNewError, type Migration } from './migrations.ts';
import { openStore, type Store } from '../sessions/store.ts';
import { SESSION_MIGRATIONS } from '../sessions/schema.ts';
import { openEventStore, type EventStore } from '../workshop/event-store.ts';
import { EVENT_MIGRATIONS } from '../workshop/schema.ts';
import { createTestDatabase } from '../sessions/postgres.test-support.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const T = 1_780_000_000_000;

test('pending migrations: those above the current version, in order; a newer database is refused', () => {
  const ms: Migration[] = [{ version: 2, sql: 'b' }, { version: 1, sql: 'a' }, { version: 3, sql: 'c' }];
  assert.deepEqual(pendingMigrations('x', 0, ms).map((m) => m.sql), ['a', 'b', 'c']);
  assert.deepEqual(pendingMigrations('x', 2, ms).map((m) => m.sql), ['c']);
  assert.deepEqual(pendingMigrations('x', 3, ms), []);
  assert.throws(() => pendingMigrations('x', 4, ms), SchemaTooNewError);
  assert.throws(() => pendingMigrations('x', 0, [{ version: 1, sql: 'a' }, { version: 3, sql: 'c' }]), /numbered 1, 2, 3/);
});

/** Everything the release wrote (fixtures/README.md) is there, read through today's stores. */
async function findsEverything(store: Store, events: EventStore): Promise<void> {
  assert.match(await store.secret(), /.{16,}/);
  const live = await store.session('s-live');
  assert.deepEqual(live, { id: 's-live', learnerId: 'learner-a', labId: '01-normal-build', phase: 'ready', createdAt: T, expiresAt: T + 3_600_000, message: undefined });
  assert.equal((await store.session('s-done'))?.message, 'expired after 4 hours');
  assert.deepEqual((await store.liveSessions()).map((s) => s.id), ['s-live']);
  assert.equal((await store.liveSessionFor('learner-a', '01-normal-build'))?.id, 's-live');
  const refs = await store.sandboxes('s-live');
  assert.equal(refs.length, 1);
  assert.equal(refs[0]!.containerId, 'c0ffee');
  assert.equal(refs[0]!.engineSocket, '/d/attach/docker.sock');
  const progress = await store.progress('learner-a', '01-normal-build');
  assert.deepEqual(progress.map((p) => [p.id, p.status, p.actual, p.expected]), [['c1', 'pass', undefined, undefined], ['c2', 'fail', '3', '4']]);
  assert.equal(await store.takeLease('session-timers', 'replica-2', 15_000, T + 1), false, 'the lease is still replica-1\'s');
  assert.equal(await store.takeLease('session-timers', 'replica-1', 15_000, T + 1), true);
  const evs = await events.events();
  assert.equal(evs.length, 1);
  assert.equal(evs[0]!.name, 'Spring workshop');
  assert.equal(evs[0]!.capacity, 30);
  assert.deepEqual((await events.eventByCode(evs[0]!.code))?.id, evs[0]!.id);
  assert.deepEqual((await events.participants(evs[0]!.id)).map((p) => [p.learnerId, p.name]), [['learner-a', 'Ada']]);
  assert.equal((await events.lastMessage(evs[0]!.id))?.text, 'Welcome!');
  assert.deepEqual((await events.eventsOf('learner-a')).map((e) => e.id), [evs[0]!.id]);
  // And it still takes writes.
  await store.saveSession({ id: 's-new', learnerId: 'learner-c', labId: '02-builder-pattern', phase: 'queued', createdAt: T + 5, expiresAt: T + 10 });
  assert.equal((await store.liveSessions()).length, 2);
}

const latest = { sessions: SESSION_MIGRATIONS.sqlite.length, events: EVENT_MIGRATIONS.sqlite.length };

describe('SQLite: a file made by release 0f85e6e', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-migrate-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'lablab.sqlite');
  fs.copyFileSync(path.join(FIXTURES, 'release-0f85e6e.sqlite'), file);

  test('opens with today\'s stores, every row found, then at the latest version (and again on a second open)', async () => {
    for (let open = 0; open < 2; open++) {
      const store = await openStore(file);
      const events = await openEventStore(file);
      if (open === 0) await findsEverything(store, events);
      await store.close();
      await events.close();
      const db = new Database(file, { readonly: true });
      const versions = Object.fromEntries(db.prepare<[], { component: string; version: number }>('SELECT component, version FROM schema_versions').all().map((r) => [r.component, r.version]));
      assert.deepEqual(versions, latest);
      assert.ok(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'sessions_phase'").get(), 'migration 2 ran');
      db.close();
    }
  });

  test('a file from a newer release is refused with a clear message', async () => {
    const db = new Database(file);
    db.prepare("UPDATE schema_versions SET version = 99 WHERE component = 'sessions'").run();
    db.close();
    await assert.rejects(openStore(file), /sessions schema is version 99, newer than this release knows/);
  });
});

describe('PostgreSQL: a database made by release 0f85e6e', () => {
  test('opens with today\'s stores, every row found, then at the latest version', async () => {
    const db = await createTestDatabase();
    try {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      await c.query(fs.readFileSync(path.join(FIXTURES, 'release-0f85e6e.pg.sql'), 'utf8'));
      await c.end();
      const store = await openStore(db.url);
      const events = await openEventStore(db.url);
      try {
        await findsEverything(store, events);
      } finally {
        await store.close();
        await events.close();
      }
      const c2 = new pg.Client({ connectionString: db.url });
      await c2.connect();
      const rows = (await c2.query<{ component: string; version: number }>('SELECT component, version FROM schema_versions')).rows;
      await c2.end();
      assert.deepEqual(Object.fromEntries(rows.map((r) => [r.component, r.version])), latest);
    } finally {
      await db.drop();
    }
  });
});
