// Workshop events, their participants and the host's messages, kept in the same SQLite file as
// sessions (its own connection: WAL lets both share the file). Behind the EventStore interface so a
// PostgreSQL store can replace it.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.ts';
import { newEventCode, type EventInput, type WorkshopEvent } from './event-rules.ts';

export interface Participant {
  eventId: string;
  learnerId: string;
  name: string;
  joinedAt: number;
}

export interface EventMessage {
  eventId: string;
  text: string;
  at: number;
}

export interface EventStore {
  createEvent(input: EventInput, now: number): WorkshopEvent;
  event(id: string): WorkshopEvent | undefined;
  eventByCode(code: string): WorkshopEvent | undefined;
  events(): WorkshopEvent[];
  /** Adds the learner to the event (or renames them if already in it). */
  join(eventId: string, learnerId: string, name: string, now: number): Participant;
  participant(eventId: string, learnerId: string): Participant | undefined;
  participants(eventId: string): Participant[];
  /** Events this learner joined, newest first. */
  eventsOf(learnerId: string): WorkshopEvent[];
  addMessage(eventId: string, text: string, now: number): EventMessage;
  lastMessage(eventId: string): EventMessage | undefined;
  close(): void;
}

// Same style as the session store: each statement is idempotent, run at every open, so an older
// file gains the new tables and a newer one is left as it is.
const SCHEMA = `
PRAGMA journal_mode = WAL;
PRAGMA busy_timeout = 5000;
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
`;

interface EventRow { id: string; code: string; name: string; labs: string; starts_at: number; ends_at: number; expected: number; capacity: number | null; created_at: number }
interface ParticipantRow { event_id: string; learner_id: string; name: string; joined_at: number }

const toEvent = (r: EventRow): WorkshopEvent => ({
  id: r.id, code: r.code, name: r.name, labs: JSON.parse(r.labs) as string[], startsAt: r.starts_at, endsAt: r.ends_at,
  expected: r.expected, capacity: r.capacity ?? undefined, createdAt: r.created_at,
});
const toParticipant = (r: ParticipantRow): Participant => ({ eventId: r.event_id, learnerId: r.learner_id, name: r.name, joinedAt: r.joined_at });

export function openEventStore(file: string): EventStore {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.exec(SCHEMA);
  const q = {
    insert: db.prepare(`INSERT INTO events (id, code, name, labs, starts_at, ends_at, expected, capacity, created_at)
      VALUES (@id, @code, @name, @labs, @startsAt, @endsAt, @expected, @capacity, @createdAt)`),
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
    if (!ev) throw new AppError('not_found', 'This event does not exist any more.');
    const already = q.participant.get(eventId, learnerId);
    if (!already && ev.capacity !== null && q.count.get(eventId)!.n >= ev.capacity) {
      throw new AppError('capacity', `"${ev.name}" is full (${ev.capacity} places). Ask the host for a place.`);
    }
    q.upsertParticipant.run(eventId, learnerId, name, already?.joined_at ?? now);
    return toParticipant(q.participant.get(eventId, learnerId)!);
  });

  return {
    createEvent(input, now) {
      for (let attempt = 0; ; attempt++) {
        const ev: WorkshopEvent = { ...input, id: newEventCode(12).toLowerCase(), code: newEventCode(6), createdAt: now };
        try {
          q.insert.run({ ...ev, labs: JSON.stringify(ev.labs), capacity: ev.capacity ?? null });
          return ev;
        } catch (err) {
          // A code already taken: draw another (31^6 codes, so this almost never repeats).
          if (attempt < 5 && /UNIQUE/.test(String((err as Error).message))) continue;
          throw err;
        }
      }
    },
    event: (id) => {
      const r = q.byId.get(id);
      return r ? toEvent(r) : undefined;
    },
    eventByCode: (code) => {
      const r = q.byCode.get(code.trim().toUpperCase());
      return r ? toEvent(r) : undefined;
    },
    events: () => q.all.all().map(toEvent),
    join: (eventId, learnerId, name, now) => joinTx(eventId, learnerId, name, now),
    participant: (eventId, learnerId) => {
      const r = q.participant.get(eventId, learnerId);
      return r ? toParticipant(r) : undefined;
    },
    participants: (eventId) => q.participants.all(eventId).map(toParticipant),
    eventsOf: (learnerId) => q.eventsOf.all(learnerId).map(toEvent),
    addMessage(eventId, text, now) {
      q.addMessage.run(eventId, text, now);
      return { eventId, text, at: now };
    },
    lastMessage: (eventId) => {
      const r = q.lastMessage.get(eventId);
      return r ? { eventId: r.event_id, text: r.text, at: r.at } : undefined;
    },
    close: () => db.close(),
  };
}
