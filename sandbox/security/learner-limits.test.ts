// Adversarial: one client tries to fill MAX_SANDBOXES (a fresh cookie per session, all from one
// address), and to loop `checks:run`. The counters live in a real SQLite file, as on the server.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLearnerLimits, type LiveSessionInfo } from '../../server/http/learner-limits.ts';
import { AppError } from '../../server/errors.ts';
import { loadConfig } from '../../server/config.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-limits-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const config = loadConfig([], {}, dir).learnerLimits; // MAX_SANDBOXES 50: 25 per address

test('fill MAX_SANDBOXES from one client with fresh cookies: refused at the per-address cap', async () => {
  const live: LiveSessionInfo[] = [];
  const limits = createLearnerLimits({ config: { ...config, sessionCreatesPerMinute: 1000 }, dbFile: path.join(dir, 'a.sqlite'), liveSessions: () => live });
  const maxSandboxes = 50;
  let admitted = 0;
  let refusal: unknown;
  for (let i = 0; i < maxSandboxes; i++) {
    const learner = `fresh-cookie-${i}`;
    try {
      await limits.admitSession(learner, '198.51.100.20');
    } catch (err) {
      refusal = err;
      break;
    }
    live.push({ id: `s${i}`, learnerId: learner });
    limits.sessionStarted(`s${i}`, '198.51.100.20');
    admitted++;
  }
  assert.equal(admitted, config.sessionsPerAddress, `one address got ${admitted} of ${maxSandboxes} slots`);
  assert.ok(refusal instanceof AppError && refusal.code === 'rate_limited');
  assert.match((refusal as Error).message, /Your network already has 25 labs open/);
  // Another client is not affected.
  await limits.admitSession('someone-else', '203.0.113.7');
  // A workshop room behind the same NAT, joined through a running event's link: the event's own
  // capacity applies, not the per-address cap; the per-learner cap still does.
  await limits.admitSession('event-learner', '198.51.100.20', { inEvent: true });
  limits.dispose();
});

test('a workshop room behind one NAT arrives through an event link within a minute: nobody is refused for the shared address', async () => {
  const live: LiveSessionInfo[] = [];
  const limits = createLearnerLimits({ config, dbFile: path.join(dir, 'room.sqlite'), liveSessions: () => live });
  for (let i = 0; i < 60; i++) {
    await limits.admitSession(`attendee-${i}`, '198.51.100.30', { inEvent: true });
    live.push({ id: `r${i}`, learnerId: `attendee-${i}` });
    limits.sessionStarted(`r${i}`, '198.51.100.30');
  }
  // The same rush without the event link is refused at the per-address rate (30 a minute by default).
  await assert.rejects(
    (async () => {
      for (let i = 0; i < 60; i++) await limits.admitSession(`walk-in-${i}`, '198.51.100.31');
    })(),
    /Your network (started labs too quickly|already has)/,
  );
  limits.dispose();
});

test('one learner: capped at MAX_SESSIONS_PER_LEARNER live sessions, and at a creation rate', async () => {
  const live: LiveSessionInfo[] = [];
  const limits = createLearnerLimits({ config, dbFile: path.join(dir, 'b.sqlite'), liveSessions: () => live });
  for (let i = 0; i < config.sessionsPerLearner; i++) {
    await limits.admitSession('me', '203.0.113.8');
    live.push({ id: `m${i}`, learnerId: 'me' });
  }
  await assert.rejects(limits.admitSession('me', '203.0.113.8'), /You already have 2 labs open/);
  // Ending sessions frees the cap, but not the rate: six creations a minute.
  live.length = 0;
  let created = config.sessionsPerLearner;
  let rate: unknown;
  for (; created < 20; created++) {
    try {
      await limits.admitSession('me', '203.0.113.8');
    } catch (err) {
      rate = err;
      break;
    }
  }
  assert.equal(created, config.sessionCreatesPerMinute);
  assert.match((rate as Error).message, /You started labs too quickly\. Try again in \d+ s\./);
  limits.dispose();
});

test('checks:run in a loop: refused past the rate, with a clear message; the counters are in the SQLite file', async () => {
  const file = path.join(dir, 'c.sqlite');
  const limits = createLearnerLimits({ config, dbFile: file, liveSessions: () => [] });
  let ran = 0;
  let refusal: unknown;
  for (let i = 0; i < 100; i++) {
    try {
      await limits.checkRun('looper', '203.0.113.9');
      ran++;
    } catch (err) {
      refusal = err;
      break;
    }
  }
  assert.equal(ran, config.checkRunsPerMinute);
  assert.match((refusal as Error).message, /more than 30 checks in a minute/);
  limits.dispose();
  // A second process on the same file (a restart, a replica) sees the same count.
  const again = createLearnerLimits({ config, dbFile: file, liveSessions: () => [] });
  await assert.rejects(again.checkRun('looper', '203.0.113.9'), /more than 30 checks/);
  again.dispose();
});

test('input and port-proxy floods are limited too', async () => {
  const limits = createLearnerLimits({ config, liveSessions: () => [] });
  assert.equal(await limits.input('typist', 1024 * 1024), true, 'a 1 MiB paste passes');
  let ok = true;
  for (let i = 0; i < 40 && ok; i++) ok = await limits.input('typist', 64 * 1024);
  assert.equal(ok, false, 'a sustained flood is cut');
  let n = 0;
  await assert.rejects(async () => {
    for (; n < 10_000; n++) await limits.portRequest('curious', '203.0.113.10');
  }, /Too many requests to your lab's port/);
  assert.equal(n, config.portRequestsPerMinute);
  limits.dispose();
});

test('the client address honours only trusted proxies', async () => {
  const { clientAddress } = await import('../../server/http/learner-limits.ts');
  const req = (peer: string, xff?: string) => ({ socket: { remoteAddress: peer }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as never;
  const loopback = (a: string) => a === '127.0.0.1';
  assert.equal(clientAddress(req('127.0.0.1', '203.0.113.5'), loopback), '203.0.113.5');
  assert.equal(clientAddress(req('198.51.100.9', '203.0.113.5'), loopback), '198.51.100.9', 'an untrusted peer cannot claim another address');
  assert.equal(clientAddress(req('127.0.0.1', '203.0.113.5, 127.0.0.1'), loopback), '203.0.113.5');
});
