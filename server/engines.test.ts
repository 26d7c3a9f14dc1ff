import { test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { createSandboxBackend, ENGINES_TUNING } from './engines.ts';
import type { Timers } from './timers.ts';

/** Timers that run only when told to. */
function manualTimers() {
  const due: (() => void)[] = [];
  const t: Timers = { now: () => 0, setTimeout: (fn) => (due.push(fn), due.length), clearTimeout: () => {} };
  return { t, fire: () => due.splice(0).forEach((f) => f()), pending: () => due.length };
}

const base = { dataDir: '/tmp/lablab-engines-test', ownerId: 'engines-test', log: () => {} };

test('with no ENGINES, the host engine alone (no fleet)', () => {
  const b = createSandboxBackend({ env: {}, readFile: () => '', base, memoryMiB: 512, log: () => {} });
  assert.equal(b.fleet, undefined);
  assert.match(b.describe, /the host engine/);
});

test('ENGINES_FILE drain flags apply at start and are re-read on each probe', async () => {
  let file = 'engines:\n  - url: unix:///run/lablab-none/a.sock\n  - id: two\n    url: unix:///run/lablab-none/b.sock\n    drain: true\n';
  const timers = manualTimers();
  const logs: string[] = [];
  const b = createSandboxBackend({ env: { ENGINES_FILE: '/x.yaml' }, readFile: () => file, base, memoryMiB: 512, timers: timers.t, log: (m) => logs.push(m) });
  assert.match(b.describe, /local \(unix:\/\/\/run\/lablab-none\/a\.sock\), two \(.*, drained\)/);
  assert.deepEqual(b.fleet!.engines().map((e) => [e.id, e.draining]), [['local', false], ['two', true]]);
  const lost: string[][] = [];
  await b.start((ids) => lost.push(ids));
  assert.equal(timers.pending(), 1, 'the next probe is scheduled');
  file = file.replace('drain: true', 'drain: false').replace('  - url: unix:///run/lablab-none/a.sock\n', '  - url: unix:///run/lablab-none/a.sock\n    drain: true\n');
  timers.fire();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(b.fleet!.engines().map((e) => [e.id, e.draining]), [['local', true], ['two', false]]);
  // Neither socket answers: after two probes both engines count as lost.
  assert.deepEqual(b.fleet!.engines().map((e) => e.lost), [true, true]);
  b.dispose();
  assert.ok(ENGINES_TUNING.probeEveryMs > 0);
});

test('a tcp engine with TLS is taken (no longer refused), and the start-up line says what differs there', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-engines-'));
  try {
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) fs.writeFileSync(path.join(dir, f), 'x');
    const file = `engines:\n  - url: unix:///run/lablab-none/a.sock\n  - id: far\n    url: tcp://build-2:2376\n    tls: { ca: ${dir}/ca.pem, cert: ${dir}/cert.pem, key: ${dir}/key.pem }\n`;
    const b = createSandboxBackend({ env: { ENGINES_FILE: '/x.yaml' }, readFile: () => file, base, memoryMiB: 512, log: () => {} });
    assert.deepEqual(b.fleet!.engines().map((e) => e.id), ['local', 'far']);
    assert.match(b.describe, /far \(tcp:\/\/build-2:2376; remote: .*disk size NOT enforced/);
    assert.doesNotMatch(b.describe, /local \([^)]*remote/);
    b.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
