// Events on PostgreSQL, for replicas sharing DATABASE_URL: same tables as SQLite.
import { openPgPool } from '../db/pg-pool.ts';
import { EVENT_MIGRATIONS } from './schema.ts';
import {
  eventFull, insertWithFreshCode, mayJoin, noSuchEvent, toEvent, toEventParams, toParticipant,
  type EventRow, type EventStore, type ParticipantRow,
} from './event-store.ts';

const MIGRATION_LOCK = 0x1ab1ac;
/** PostgreSQL's unique_violation: the drawn event code is taken. */
const UNIQUE_VIOLATION = '23505';

export async function openPgEventStore(url: string): Promise<EventStore> {
  const pool = await openPgPool(url, 'events', EVENT_MIGRATIONS.pg, MIGRATION_LOCK);
  const rows = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => (await pool.query(sql, params)).rows as T[];

  return {
    createEvent: (input, now) =>
      insertWithFreshCode(input, now, async (ev) => {
        await pool.query('INSERT INTO events (id, code, name, labs, starts_at, ends_at, expected, capacity, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', toEventParams(ev));
      }, (err) => (err as { code?: string }).code === UNIQUE_VIOLATION),
    event: async (id) => (await rows<EventRow>('SELECT * FROM events WHERE id = $1', [id])).map(toEvent)[0],
    eventByCode: async (code) => (await rows<EventRow>('SELECT * FROM events WHERE code = $1', [code.trim().toUpperCase()])).map(toEvent)[0],
    events: async () => (await rows<EventRow>('SELECT * FROM events ORDER BY starts_at DESC')).map(toEvent),
    async join(eventId, learnerId, name, now) {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        // The event's row lock makes joins to one event take turns, so two replicas cannot both
        // admit the last newcomer past the capacity.
        const ev = (await c.query<EventRow>('SELECT * FROM events WHERE id = $1 FOR UPDATE', [eventId])).rows[0];
        if (!ev) throw noSuchEvent();
        const already = (await c.query<ParticipantRow>('SELECT * FROM event_participants WHERE event_id = $1 AND learner_id = $2', [eventId, learnerId])).rows[0];
        const joined = Number((await c.query<{ n: string }>('SELECT COUNT(*) AS n FROM event_participants WHERE event_id = $1', [eventId])).rows[0]!.n);
        if (!mayJoin(ev, !!already, joined)) throw eventFull(ev);
        const r = (await c.query<ParticipantRow>(`INSERT INTO event_participants (event_id, learner_id, name, joined_at) VALUES ($1, $2, $3, $4)
          ON CONFLICT (event_id, learner_id) DO UPDATE SET name = excluded.name RETURNING *`, [eventId, learnerId, name, now])).rows[0]!;
        await c.query('COMMIT');
        return toParticipant(r);
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        c.release();
      }
    },
    participant: async (eventId, learnerId) =>
      (await rows<ParticipantRow>('SELECT * FROM event_participants WHERE event_id = $1 AND learner_id = $2', [eventId, learnerId])).map(toParticipant)[0],
    participants: async (eventId) => (await rows<ParticipantRow>('SELECT * FROM event_participants WHERE event_id = $1 ORDER BY joined_at', [eventId])).map(toParticipant),
    eventsOf: async (learnerId) => (await rows<EventRow>(`SELECT e.* FROM events e JOIN event_participants p ON p.event_id = e.id
      WHERE p.learner_id = $1 ORDER BY p.joined_at DESC`, [learnerId])).map(toEvent),
    async addMessage(eventId, text, now) {
      await pool.query('INSERT INTO event_messages (event_id, text, at) VALUES ($1, $2, $3)', [eventId, text, now]);
      return { eventId, text, at: now };
    },
    lastMessage: async (eventId) =>
      (await rows<{ event_id: string; text: string; at: number }>('SELECT * FROM event_messages WHERE event_id = $1 ORDER BY at DESC, seq DESC LIMIT 1', [eventId]))
        .map((r) => ({ eventId: r.event_id, text: r.text, at: r.at }))[0],
    close: () => pool.end(),
  };
}
