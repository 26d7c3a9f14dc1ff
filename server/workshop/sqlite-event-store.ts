// Events on the embedded SQLite file, beside the sessions (its own connection: WAL lets both share
// the file). better-sqlite3 is synchronous; the async interface lets PostgreSQL replace it.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { migrateSqlite } from '../db/migrations.ts';
import { EVENT_MIGRATIONS } from './schema.ts';
import {
  eventFull, insertWithFreshCode, mayJoin, noSuchEvent, toEvent, toEventParams, toParticipant,
  type EventRow, type EventStore, type Participant, type ParticipantRow,
} from './event-store.ts';

// Per connection; the tables come from EVENT_MIGRATIONS (schema.ts), applied forward at every open.
const PRAGMAS = `
PRAGMA journal_mode = WAL;
PRAGMA busy_timeout = 5000;
`;

export function openSqliteEventStore(file: string): EventStore {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.exec(PRAGMAS);
  migrateSqlite(db, 'events', EVENT_MIGRATIONS.sqlite);
  const q = {
    insert: db.prepare(`INSERT INTO events (id, code, name, labs, starts_at, ends_at, expected, capacity, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    byId: db.prepare<[string], EventRow>('SELECT * FROM events WHERE id = ?'),
    byCode: db.prepare<[string], EventRow>('SELECT * FROM events WHERE code = ?'),
    all: db.prepare<[], EventRow>('SELECT * FROM events ORDER BY starts_at DESC'),
    count: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM event_participants WHERE event_id = ?'),
    upsertParticipant: db.prepare(`INSERT INTO event_participants (event_id, learner_id, name, joined_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(event_id, learner_id) DO UPDATE SET name = excluded.name`),
    participant: db.prepare<[string, string], ParticipantRow>('SELECT * FROM event_participants WHERE event_id = ? AND learner_id = ?'),
    participants: db.prepare<[string], ParticipantRow>('SELECT * FROM event_participants WHERE event_id = ? ORDER BY joined_at'),
    eventsOf: db.prepare<[string], EventRow>(`SELECT e.* FROM events e JOIN event_participants p ON p.event_id = e.id
      WHERE p.learner_id = ? ORDER BY p.joined_at DESC`),
    addMessage: db.prepare('INSERT INTO event_messages (event_id, text, at) VALUES (?, ?, ?)'),
    lastMessage: db.prepare<[string], { event_id: string; text: string; at: number }>('SELECT * FROM event_messages WHERE event_id = ? ORDER BY at DESC, rowid DESC LIMIT 1'),
  };
  const joinTx = db.transaction((eventId: string, learnerId: string, name: string, now: number): Participant => {
    const ev = q.byId.get(eventId);
    if (!ev) throw noSuchEvent();
    const already = q.participant.get(eventId, learnerId);
    if (!mayJoin(ev, !!already, q.count.get(eventId)!.n)) throw eventFull(ev);
    q.upsertParticipant.run(eventId, learnerId, name, already?.joined_at ?? now);
    return toParticipant(q.participant.get(eventId, learnerId)!);
  });

  return {
    createEvent: (input, now) =>
      insertWithFreshCode(input, now, async (ev) => void q.insert.run(...toEventParams(ev)), (err) => /UNIQUE/.test(String((err as Error).message))),
    event: async (id) => {
      const r = q.byId.get(id);
      return r ? toEvent(r) : undefined;
    },
    eventByCode: async (code) => {
      const r = q.byCode.get(code.trim().toUpperCase());
      return r ? toEvent(r) : undefined;
    },
    events: async () => q.all.all().map(toEvent),
    join: async (eventId, learnerId, name, now) => joinTx(eventId, learnerId, name, now),
    participant: async (eventId, learnerId) => {
      const r = q.participant.get(eventId, learnerId);
      return r ? toParticipant(r) : undefined;
    },
    participants: async (eventId) => q.participants.all(eventId).map(toParticipant),
    eventsOf: async (learnerId) => q.eventsOf.all(learnerId).map(toEvent),
    async addMessage(eventId, text, now) {
      q.addMessage.run(eventId, text, now);
      return { eventId, text, at: now };
    },
    lastMessage: async (eventId) => {
      const r = q.lastMessage.get(eventId);
      return r ? { eventId: r.event_id, text: r.text, at: r.at } : undefined;
    },
    close: async () => void db.close(),
  };
}
