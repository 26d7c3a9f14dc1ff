// One suite, two event stores: every rule here holds for SQLite and for PostgreSQL alike.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../errors.ts';
import { createTestDatabase } from '../sessions/postgres.test-support.ts';
import { openEventStore } from './event-store.ts';

const input = { name: 'DevConf', labs: ['a'], startsAt: 1000, endsAt: 5000, expected: 2, capacity: 2 };

/** `target` is what openEventStore takes; opening it twice is a restart (or a second replica). */
const kinds: { name: string; open(): Promise<{ target: string; done(): Promise<void> }> }[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-events-'));
      return { target: path.join(dir, 'db.sqlite'), done: async () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    async open() {
      const db = await createTestDatabase();
      return { target: db.url, done: db.drop };
    },
  },
];

for (const kind of kinds) {
  describe(`event store (${kind.name})`, () => {
    let target: string;
    let done: () => Promise<void>;
    before(async () => ({ target, done } = await kind.open()));
    after(() => done());

    test('events, participants and messages survive a restart and are seen by a second connection', async () => {
      let s = await openEventStore(target);
      const other = await openEventStore(target);
      const ev = await s.createEvent(input, 10);
      await s.join(ev.id, 'ann', 'Ann', 20);
      await s.addMessage(ev.id, 'first', 30);
      await s.addMessage(ev.id, 'second', 31);
      await s.addMessage(ev.id, 'third, same millisecond', 31);
      assert.deepEqual(await other.eventByCode(` ${ev.code.toLowerCase()} `), ev, 'another replica finds the join code at once');
      await other.close();
      await s.close();

      s = await openEventStore(target);
      assert.deepEqual(await s.event(ev.id), ev);
      assert.deepEqual(await s.events(), [ev]);
      assert.equal(await s.event('nope'), undefined);
      assert.equal(await s.eventByCode('NOPE00'), undefined);
      assert.deepEqual((await s.participants(ev.id)).map((p) => [p.learnerId, p.name, p.joinedAt]), [['ann', 'Ann', 20]]);
      assert.deepEqual((await s.eventsOf('ann')).map((e) => e.id), [ev.id]);
      assert.deepEqual(await s.eventsOf('bob'), []);
      assert.deepEqual(await s.lastMessage(ev.id), { eventId: ev.id, text: 'third, same millisecond', at: 31 });
      assert.equal(await s.lastMessage('nope'), undefined);
      await s.close();
    });

    test('joining twice renames; the capacity refuses the next newcomer, not someone already in', async () => {
      const s = await openEventStore(target);
      const ev = await s.createEvent(input, 0);
      await s.join(ev.id, 'ann', 'Ann', 1);
      await s.join(ev.id, 'bob', 'Bob', 2);
      assert.equal((await s.join(ev.id, 'ann', 'Ann L.', 3)).joinedAt, 1);
      assert.equal((await s.participant(ev.id, 'ann'))?.name, 'Ann L.');
      await assert.rejects(s.join(ev.id, 'cy', 'Cy', 4), (e: unknown) => e instanceof AppError && e.code === 'capacity' && /is full \(2 places\)/.test(e.message));
      await assert.rejects(s.join('nope', 'cy', 'Cy', 4), (e: unknown) => e instanceof AppError && e.code === 'not_found');
      const open = await s.createEvent({ ...input, capacity: undefined }, 0);
      for (const who of ['a', 'b', 'c']) await s.join(open.id, who, who, 5);
      assert.equal((await s.participants(open.id)).length, 3, 'no capacity: everyone gets in');
      await s.close();
    });

    test('newcomers racing for the last places through two connections: exactly the capacity gets in', async () => {
      const a = await openEventStore(target);
      const b = await openEventStore(target);
      const ev = await a.createEvent({ ...input, capacity: 3 }, 0);
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).join(ev.id, `l${i}`, `L${i}`, i)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
      assert.equal((await a.participants(ev.id)).length, 3);
      await a.close();
      await b.close();
    });
  });
}
