import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from './config.ts';

test('egress, runtime, proxy and limit options: defaults and refusals', () => {
  const c = loadConfig([], {}, '/tmp');
  assert.deepEqual(c.egress, { mode: 'internet', allow: [] });
  assert.equal(c.runtime, undefined);
  assert.equal(c.trustProxy, 'loopback');
  assert.equal(c.learnerLimits.sessionsPerLearner, 2);
  assert.equal(c.learnerLimits.sessionsPerAddress, 25);
  assert.equal(loadConfig([], { MAX_SANDBOXES: '7' }, '/tmp').learnerLimits.sessionsPerAddress, 4);
  assert.deepEqual(loadConfig([], { SANDBOX_EGRESS: 'allowlist', SANDBOX_EGRESS_ALLOW: 'mirror.lan, 198.51.100.0/24' }, '/tmp').egress,
    { mode: 'allowlist', allow: ['mirror.lan', '198.51.100.0/24'] });
  assert.throws(() => loadConfig([], { SANDBOX_EGRESS: 'open' }, '/tmp'), ConfigError);
  assert.throws(() => loadConfig([], { SANDBOX_EGRESS: 'allowlist' }, '/tmp'), /needs SANDBOX_EGRESS_ALLOW/);
  assert.equal(loadConfig([], { TRUST_PROXY: 'true' }, '/tmp').trustProxy, true);
  assert.equal(loadConfig([], { SANDBOX_RUNTIME: 'sysbox-runc' }, '/tmp').runtime, 'sysbox-runc');
  assert.throws(() => loadConfig([], { RATE_CHECKS_PER_MIN: '0' }, '/tmp'), ConfigError);
});
