import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../errors.ts';
import { openEventStore } from './event-store.ts';

const input = { name: 'DevConf', labs: ['a'], startsAt: 1000, endsAt: 5000, expected: 2, capacity: 2 };

test('events, participants and messages survive a restart (a new connection on the same file)', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-events-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'db.sqlite');
  let s = openEventStore(file);
  const ev = s.createEvent(input, 10);
  s.join(ev.id, 'ann', 'Ann', 20);
  s.addMessage(ev.id, 'first', 30);
  s.addMessage(ev.id, 'second', 31);
  s.close();

  s = openEventStore(file);
  assert.deepEqual(s.event(ev.id), ev);
  assert.deepEqual(s.eventByCode(ev.code.toLowerCase()), ev);
  assert.deepEqual(s.participants(ev.id).map((p) => [p.learnerId, p.name]), [['ann', 'Ann']]);
  assert.deepEqual(s.eventsOf('ann').map((e) => e.id), [ev.id]);
  assert.equal(s.lastMessage(ev.id)?.text, 'second');
  s.close();
});

test('joining twice renames; the capacity refuses the next newcomer, not someone already in', () => {
  const s = openEventStore(':memory:');
  const ev = s.createEvent(input, 0);
  s.join(ev.id, 'ann', 'Ann', 1);
  s.join(ev.id, 'bob', 'Bob', 2);
  assert.equal(s.join(ev.id, 'ann', 'Ann L.', 3).joinedAt, 1);
  assert.equal(s.participant(ev.id, 'ann')?.name, 'Ann L.');
  assert.throws(() => s.join(ev.id, 'cy', 'Cy', 4), (e: unknown) => e instanceof AppError && e.code === 'capacity' && /is full \(2 places\)/.test(e.message));
  s.close();
});
