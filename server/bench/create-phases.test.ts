import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPhases, summarisePhases } from './create-phases.ts';

const LOG = `listening on http://127.0.0.1:1
sandbox 0a1b2c3d4e5f (node1): template 24, disk 1100, network 1150, created 2000, started 2900 ms
something else
sandbox 00ff00ff00ff (node1): template 10, disk 310, network 320, created 420, started 520 ms
`;

test('createPhases turns cumulative marks into each phase\'s own duration', () => {
  assert.deepEqual(createPhases(LOG), [
    { template: 24, disk: 1076, network: 50, created: 850, started: 900, total: 2900 },
    { template: 10, disk: 300, network: 10, created: 100, started: 100, total: 520 },
  ]);
  assert.deepEqual(createPhases('no creates here'), []);
});

test('summarisePhases gives p50 and p95 per phase', () => {
  const s = summarisePhases(createPhases(LOG));
  assert.deepEqual(s.disk, { p50: 300, p95: 1076 });
  assert.deepEqual(s.total, { p50: 520, p95: 2900 });
});
