// Limits shared by replicas: two limiter instances (two replicas) on one real Redis, or on one
// PostgreSQL database, hold one cap and one rate between them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../errors.ts';
import { createTestDatabase } from '../sessions/postgres.test-support.ts';
import { startTestRedis } from '../../e2e/redis.test-support.ts';
import { createLearnerLimits, type LearnerLimits, type LiveSessionInfo } from './learner-limits.ts';

const config = {
  sessionsPerLearner: 2, sessionsPerAddress: 3, sessionCreatesPerMinute: 1000, checkRunsPerMinute: 4,
  inputBytesPerSecond: 1 << 20, portRequestsPerMinute: 600, uploadBytesPerMinute: 1 << 26,
};
const refused = (pattern: RegExp) => (e: unknown) => e instanceof AppError && e.code === 'rate_limited' && pattern.test(e.message);

const backends: { name: string; open(): Promise<{ shared: { redisUrl?: string; databaseUrl?: string }; done(): Promise<void> }> }[] = [
  {
    name: 'redis',
    async open() {
      const r = await startTestRedis();
      return { shared: { redisUrl: r.url }, done: r.stop };
    },
  },
  {
    name: 'postgres',
    async open() {
      const db = await createTestDatabase('lablab_limits');
      return { shared: { databaseUrl: db.url }, done: db.drop };
    },
  },
];

for (const backend of backends) {
  describe(`learner limits shared by two replicas (${backend.name})`, () => {
    let done: () => Promise<void>;
    let one: LearnerLimits;
    let two: LearnerLimits;
    /** The shared store's live sessions, as both replicas read them. */
    let live: LiveSessionInfo[] = [];
    before(async () => {
      const b = await backend.open();
      done = b.done;
      one = createLearnerLimits({ config, shared: b.shared, liveSessions: async () => live });
      two = createLearnerLimits({ config, shared: b.shared, liveSessions: async () => live });
    });
    after(async () => {
      await one?.dispose();
      await two?.dispose();
      await done?.();
    });

    /** A session admitted and started on a replica, as socket-server does it. */
    async function start(r: LearnerLimits, id: string, learnerId: string, address: string): Promise<void> {
      await r.admitSession(learnerId, address);
      live.push({ id, learnerId });
      r.sessionStarted(id, address);
      await new Promise((res) => setTimeout(res, 50)); // the address is written in the background
    }

    test('the per-address cap counts sessions started on the other replica', async () => {
      live = [];
      await start(one, 's1', 'ann', '203.0.113.7');
      await start(two, 's2', 'bob', '203.0.113.7');
      await start(one, 's3', 'cy', '203.0.113.7');
      await assert.rejects(two.admitSession('dee', '203.0.113.7'), refused(/Your network already has 3 labs open/));
      await assert.rejects(one.admitSession('dee', '203.0.113.7'), refused(/Your network already has 3 labs open/));
      await two.admitSession('dee', '198.51.100.1'); // another address is not held back
      await two.admitSession('dee', '203.0.113.7', { inEvent: true }); // nor an event's room
      live = live.filter((s) => s.id !== 's2'); // one ends (on either replica): room again
      await one.admitSession('dee', '203.0.113.7');
    });

    test('the per-learner cap and a rate hold across both replicas', async () => {
      live = [{ id: 'x1', learnerId: 'eve' }, { id: 'x2', learnerId: 'eve' }];
      await assert.rejects(two.admitSession('eve', '192.0.2.1'), refused(/You already have 2 labs open/));
      // 4 checks a minute per learner: 2 on each replica, then both refuse.
      for (const r of [one, two, one, two]) await r.checkRun('fay', '192.0.2.2');
      await assert.rejects(one.checkRun('fay', '192.0.2.2'), refused(/more than 4 checks in a minute/));
      await assert.rejects(two.checkRun('fay', '192.0.2.2'), refused(/more than 4 checks in a minute/));
    });
  });
}
