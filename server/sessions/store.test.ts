// One suite, two stores: every rule here holds for SQLite and for PostgreSQL alike.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import { openStore, type SessionRecord, type Store } from './store.ts';
import { createTestDatabase } from './postgres.test-support.ts';

const rec = (over: Partial<SessionRecord> = {}): SessionRecord => ({ id: 's1', learnerId: 'a', labId: 'one', phase: 'queued', createdAt: 1000, expiresAt: 9000, ...over });
const ref = (sessionId: string, node: number): SandboxRef => ({ id: `c${node}`, name: `n${node}`, sessionId, node, terminalSocket: `/tmp/${node}.sock` }) as unknown as SandboxRef;

const kinds: { name: string; open(): Promise<{ store: Store; done(): Promise<void> }> }[] = [
  { name: 'sqlite', open: async () => ({ store: await openStore(':memory:'), done: async () => {} }) },
  {
    name: 'postgres',
    async open() {
      const db = await createTestDatabase();
      return { store: await openStore(db.url), done: db.drop };
    },
  },
];

for (const kind of kinds) {
  describe(`store (${kind.name})`, () => {
    let store: Store;
    let done: () => Promise<void>;
    before(async () => ({ store, done } = await kind.open()));
    after(async () => {
      await store.close();
      await done();
    });

    test('a session round-trips, and an update keeps its learner and lab', async () => {
      await store.saveSession(rec({ id: 'r1', message: 'waiting' }));
      assert.deepEqual(await store.session('r1'), rec({ id: 'r1', message: 'waiting' }));
      await store.saveSession(rec({ id: 'r1', learnerId: 'other', phase: 'ready', expiresAt: 12_000 }));
      assert.deepEqual(await store.session('r1'), rec({ id: 'r1', phase: 'ready', expiresAt: 12_000, message: undefined }));
      assert.equal(await store.session('nope'), undefined);
    });

    test('the live session for a learner and lab is the newest queued, starting or ready one', async () => {
      await store.saveSession(rec({ id: 'l1', learnerId: 'L', createdAt: 1, phase: 'ready' }));
      await store.saveSession(rec({ id: 'l2', learnerId: 'L', createdAt: 2, phase: 'starting' }));
      await store.saveSession(rec({ id: 'l3', learnerId: 'L', createdAt: 3, phase: 'ended' }));
      assert.equal((await store.liveSessionFor('L', 'one'))?.id, 'l2');
      assert.equal(await store.liveSessionFor('L', 'two'), undefined);
      const live = (await store.liveSessions()).filter((s) => s.learnerId === 'L').map((s) => s.id);
      assert.deepEqual(live, ['l1', 'l2'], 'oldest first, ended left out');
      assert.deepEqual((await store.recentSessions(2)).map((s) => s.id), ['r1', 'l3'], 'newest first, any phase');
    });

    test('sandboxes are replaced as a whole, in node order', async () => {
      await store.saveSandboxes('x', [ref('x', 2), ref('x', 1)]);
      assert.deepEqual((await store.sandboxes('x')).map((r) => r.node), [1, 2]);
      await store.saveSandboxes('x', [ref('pool', 1)]);
      assert.deepEqual(await store.sandboxes('x'), [ref('pool', 1)]);
      assert.deepEqual(await store.sandboxes('none'), []);
    });

    test('variables are upserted per name and read per learner and lab', async () => {
      assert.deepEqual(await store.variables('V', 'lab'), {});
      await store.saveVariables('V', 'lab', { who: 'Ada', tag: 'v1' }, 1000);
      await store.saveVariables('V', 'lab', { who: 'Grace <b>&"\'' }, 2000);
      await store.saveVariables('W', 'lab', { who: 'someone else' }, 2000);
      assert.deepEqual(await store.variables('V', 'lab'), { who: 'Grace <b>&"\'', tag: 'v1' });
      assert.deepEqual(await store.variables('V', 'other'), {});
      assert.deepEqual(await store.variables('W', 'lab'), { who: 'someone else' });
    });

    test('progress is upserted per check and read per learner or per lab', async () => {
      await store.saveProgress('P', 'lab', [{ id: 'c1', stepId: 's', status: 'fail', message: 'no', expected: 'x' }], 10);
      await store.saveProgress('P', 'lab', [{ id: 'c1', stepId: 's', status: 'pass', message: 'yes' }, { id: 'c2', stepId: 't', status: 'pending', message: '' }], 20);
      await store.saveProgress('Q', 'lab', [{ id: 'c1', stepId: 's', status: 'fail', message: 'no', actual: 'y' }], 30);
      const mine = (await store.progress('P', 'lab')).sort((a, b) => a.id.localeCompare(b.id));
      assert.deepEqual(mine, [
        { learnerId: 'P', labId: 'lab', id: 'c1', stepId: 's', status: 'pass', message: 'yes', actual: undefined, expected: undefined, updatedAt: 20 },
        { learnerId: 'P', labId: 'lab', id: 'c2', stepId: 't', status: 'pending', message: '', actual: undefined, expected: undefined, updatedAt: 20 },
      ]);
      assert.equal((await store.labProgress('lab')).length, 3);
      assert.deepEqual(await store.progress('P', 'other'), []);
    });

    test('the cookie secret is made once; a legacy one is taken exactly once', async () => {
      const s = await store.secret();
      assert.match(s, /^[\w-]{40,}$/);
      assert.equal(await store.secret(), s);
      assert.equal(await store.takeLegacySecret(), s);
      assert.equal(await store.takeLegacySecret(), undefined);
    });

    test('lease: one holder at a time, renewed by its holder, taken over only once expired', async () => {
      let now = 1_000_000;
      assert.equal(await store.takeLease('timers', 'r1', 10_000, now), true, 'a free lease is taken');
      assert.equal(await store.takeLease('timers', 'r2', 10_000, now + 1), false, 'held by another');
      now += 9_000;
      assert.equal(await store.takeLease('timers', 'r1', 10_000, now), true, 'the holder renews');
      assert.equal(await store.takeLease('timers', 'r2', 10_000, now + 9_999), false, 'renewed: still not expired');
      now += 10_000;
      assert.equal(await store.takeLease('timers', 'r2', 10_000, now), true, 'the dead holder lost it');
      assert.equal(await store.takeLease('timers', 'r1', 10_000, now + 1), false, 'and cannot take it back while r2 renews');
      assert.equal(await store.takeLease('other', 'r1', 10_000, now), true, 'leases are per name');
      await store.releaseLease('timers', 'r1');
      assert.equal(await store.takeLease('timers', 'r1', 10_000, now + 2), false, 'a non-holder cannot release');
      await store.releaseLease('timers', 'r2');
      assert.equal(await store.takeLease('timers', 'r1', 10_000, now + 2), true, 'a released lease is free at once');
    });

    test('lease: of many racing for a free lease, exactly one wins', async () => {
      const wins = await Promise.all(Array.from({ length: 8 }, (_, i) => store.takeLease('race', `h${i}`, 5_000, 42)));
      assert.equal(wins.filter(Boolean).length, 1);
    });
  });
}
