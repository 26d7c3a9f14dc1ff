import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderUnit, UnitError } from './unit.ts';

/** The unit's settings as key → values, the way systemd reads them (sections flattened). */
function settings(unit: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const line of unit.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const s = /^\[(\w+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      continue;
    }
    const i = line.indexOf('=');
    assert.ok(i > 0, `not a setting: ${line}`);
    const key = `${section}.${line.slice(0, i)}`;
    out.set(key, [...(out.get(key) ?? []), line.slice(i + 1)]);
  }
  return out;
}

test('the unit runs the checkout as root after docker, restarts on failure, logs to the journal, reads /etc/lablab/env', () => {
  const s = settings(renderUnit({ checkout: '/opt/lablab', node: '/usr/bin/node' }));
  assert.deepEqual(s.get('Unit.Requires'), ['docker.service']);
  assert.match(s.get('Unit.After')![0]!, /(^| )docker\.service( |$)/);
  assert.deepEqual(s.get('Service.User'), ['root']);
  assert.deepEqual(s.get('Service.WorkingDirectory'), ['/opt/lablab']);
  assert.deepEqual(s.get('Service.EnvironmentFile'), ['/etc/lablab/env']);
  assert.deepEqual(s.get('Service.Restart'), ['on-failure']);
  assert.deepEqual(s.get('Service.StandardOutput'), ['journal']);
  assert.deepEqual(s.get('Service.StandardError'), ['journal']);
  assert.deepEqual(s.get('Service.ExecStart'), ['/usr/bin/node --import tsx /opt/lablab/server/main.ts']);
  assert.deepEqual(s.get('Service.ExecStartPre'), ['/bin/bash /opt/lablab/sandbox/host/setup.sh', '/usr/bin/node /opt/lablab/web/build.mjs']);
  assert.deepEqual(s.get('Install.WantedBy'), ['multi-user.target']);
  assert.match(s.get('Service.Environment')![0]!, /^PATH=\/usr\/bin:/, "node's own folder first on PATH (setup.sh runs npm)");
});

test('a node outside /usr/bin leads PATH; a trailing slash on the checkout is dropped', () => {
  const s = settings(renderUnit({ checkout: '/srv/labs/', node: '/opt/node-20/bin/node', envFile: '/etc/lablab/env' }));
  assert.deepEqual(s.get('Service.WorkingDirectory'), ['/srv/labs']);
  assert.match(s.get('Service.Environment')![0]!, /^PATH=\/opt\/node-20\/bin:/);
});

test('paths systemd would split or expand are refused with a sentence', () => {
  assert.throws(() => renderUnit({ checkout: '/home/me/my labs', node: '/usr/bin/node' }), (e) => e instanceof UnitError && /space/.test(e.message));
  assert.throws(() => renderUnit({ checkout: '/srv/100%', node: '/usr/bin/node' }), UnitError);
  assert.throws(() => renderUnit({ checkout: 'relative/dir', node: '/usr/bin/node' }), /absolute/);
});
