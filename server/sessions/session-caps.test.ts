// The live-session caps are one atomic step in the store: joins racing from two replicas (two stores
// on one database: a SQLite file, a PostgreSQL database) never pass a cap together.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { capRefusal } from './caps.ts';
import { openStore, type SessionRecord, type Store } from './store.ts';
import { createTestDatabase } from './postgres.test-support.ts';

test('capRefusal: the learner cap first, the address cap only when there is one', () => {
  assert.deepEqual(capRefusal({ address: 'x', perLearner: 2, perAddress: 3 }, 2, 0), { cap: 'learner', count: 2 });
  assert.deepEqual(capRefusal({ address: 'x', perLearner: 2, perAddress: 3 }, 1, 3), { cap: 'address', count: 3 });
  assert.equal(capRefusal({ address: 'x', perLearner: 2 }, 1, 99), undefined);
  assert.equal(capRefusal({ address: 'x', perLearner: 2, perAddress: 3 }, 1, 2), undefined);
});

let n = 0;
const rec = (learnerId: string, phase: SessionRecord['phase'] = 'queued'): SessionRecord => ({ id: `s${++n}`, learnerId, labId: `lab${n}`, phase, createdAt: n, expiresAt: n + 1e9 });

const kinds: { name: string; open(): Promise<{ a: Store; b: Store; done(): Promise<void> }> }[] = [
  {
    name: 'sqlite, two connections to one file',
    async open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-caps-'));
      const file = path.join(dir, 'db.sqlite');
      return { a: await openStore(file), b: await openStore(file), done: async () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres, two pools on one database',
    async open() {
      const db = await createTestDatabase();
      return { a: await openStore(db.url), b: await openStore(db.url), done: db.drop };
    },
  },
];

for (const kind of kinds) {
  describe(`session caps (${kind.name})`, () => {
    let a: Store, b: Store, done: () => Promise<void>;
    after(async () => {
      await a?.close();
      await b?.close();
      await done?.();
    });

    test('of 12 joins at once by one learner from two replicas, exactly the cap (3) get in', async () => {
      ({ a, b, done } = await kind.open());
      const caps = { address: '10.9.9.1', perLearner: 3, perAddress: 100 };
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).createSession(rec('ada'), caps)));
      assert.equal(results.filter((r) => r === undefined).length, 3);
      assert.deepEqual(results.find((r) => r), { cap: 'learner', count: 3 });
      assert.equal((await a.liveSessions()).filter((s) => s.learnerId === 'ada').length, 3);
    });

    test('the per-address cap holds across learners; ended sessions do not count; an event learner (no address cap) is let in', async () => {
      const caps = { address: '10.9.9.2', perLearner: 5, perAddress: 4 };
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).createSession(rec(`l${i}`), caps)));
      assert.equal(results.filter((r) => r === undefined).length, 4);
      assert.deepEqual(results.find((r) => r), { cap: 'address', count: 4 });
      const live = (await a.liveSessions()).filter((s) => s.learnerId.startsWith('l'));
      await a.saveSession({ ...live[0]!, phase: 'ended' });
      assert.equal(await b.createSession(rec('lx'), caps), undefined, 'a place freed by an ended session');
      assert.deepEqual(await b.createSession(rec('ly'), caps), { cap: 'address', count: 4 });
      assert.equal(await b.createSession(rec('ly'), { address: caps.address, perLearner: 5 }), undefined);
    });
  });
}
