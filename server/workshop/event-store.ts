// Workshop events, their participants and the host's messages, behind one async interface:
// SQLite (the embedded default, beside the sessions in the same file) or PostgreSQL when replicas
// share DATABASE_URL, so a join link made on one replica works on every other.
import { AppError } from '../errors.ts';
import { isPostgresUrl } from '../sessions/store.ts';
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
  createEvent(input: EventInput, now: number): Promise<WorkshopEvent>;
  event(id: string): Promise<WorkshopEvent | undefined>;
  eventByCode(code: string): Promise<WorkshopEvent | undefined>;
  events(): Promise<WorkshopEvent[]>;
  /** Adds the learner to the event (or renames them if already in it); refuses a newcomer past the capacity. */
  join(eventId: string, learnerId: string, name: string, now: number): Promise<Participant>;
  participant(eventId: string, learnerId: string): Promise<Participant | undefined>;
  participants(eventId: string): Promise<Participant[]>;
  /** Events this learner joined, newest first. */
  eventsOf(learnerId: string): Promise<WorkshopEvent[]>;
  addMessage(eventId: string, text: string, now: number): Promise<EventMessage>;
  lastMessage(eventId: string): Promise<EventMessage | undefined>;
  close(): Promise<void>;
}

// Rows as both databases return them (PostgreSQL's BIGINT parsed to a number).
export interface EventRow { id: string; code: string; name: string; labs: string; starts_at: number; ends_at: number; expected: number; capacity: number | null; created_at: number }
export interface ParticipantRow { event_id: string; learner_id: string; name: string; joined_at: number }

export const toEvent = (r: EventRow): WorkshopEvent => ({
  id: r.id, code: r.code, name: r.name, labs: JSON.parse(r.labs) as string[], startsAt: r.starts_at, endsAt: r.ends_at,
  expected: r.expected, capacity: r.capacity ?? undefined, createdAt: r.created_at,
});
export const toParticipant = (r: ParticipantRow): Participant => ({ eventId: r.event_id, learnerId: r.learner_id, name: r.name, joinedAt: r.joined_at });
export const toEventParams = (ev: WorkshopEvent) => [ev.id, ev.code, ev.name, JSON.stringify(ev.labs), ev.startsAt, ev.endsAt, ev.expected, ev.capacity ?? null, ev.createdAt];

export const noSuchEvent = () => new AppError('not_found', 'This event does not exist any more.');
export const eventFull = (ev: EventRow) => new AppError('capacity', `"${ev.name}" is full (${ev.capacity} places). Ask the host for a place.`);
/** Who may join: someone already in, or anyone while the event has room. */
export const mayJoin = (ev: EventRow, already: boolean, joined: number) => already || ev.capacity === null || joined < ev.capacity;

/** A PostgreSQL URL opens PostgreSQL; anything else is a SQLite file (or ':memory:'). */
export async function openEventStore(target: string): Promise<EventStore> {
  if (isPostgresUrl(target)) return (await import('./pg-event-store.ts')).openPgEventStore(target);
  return (await import('./sqlite-event-store.ts')).openSqliteEventStore(target);
}

/** Inserts a new event under a freshly drawn code, drawing again when the code is taken (31^6 codes: almost never). */
export async function insertWithFreshCode(input: EventInput, now: number, insert: (ev: WorkshopEvent) => Promise<void>, isTaken: (err: unknown) => boolean): Promise<WorkshopEvent> {
  for (let attempt = 0; ; attempt++) {
    const ev: WorkshopEvent = { ...input, id: newEventCode(12).toLowerCase(), code: newEventCode(6), createdAt: now };
    try {
      await insert(ev);
      return ev;
    } catch (err) {
      if (attempt < 5 && isTaken(err)) continue;
      throw err;
    }
  }
}
