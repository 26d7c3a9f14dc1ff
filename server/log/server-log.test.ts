// The real server's output in both formats: human lines by default, and with LOG_FORMAT=json
// every line on stdout one JSON object (the journal and log shippers read it line by line).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startServerProc, tempDir, uniqueOwner, ROOT } from '../../e2e/harness.ts';
import { cleanupOwner } from '../../e2e/cleanup.ts';
import { defaultDataDir } from '../config.ts';

const DATA = defaultDataDir(ROOT);
const owner = uniqueOwner('logfmt');
const labsDir = tempDir('logfmt-labs');
const env = () => ({ DB_FILE: path.join(tempDir('logfmt-db'), 'db.sqlite'), PREPARE_TEMPLATES: '0' });

after(() => cleanupOwner(DATA, owner));

const stdoutLines = (out: string) => out.split('\n').filter(Boolean);

test('by default the server writes human lines, each starting with its time', { timeout: 90_000 }, async () => {
  const s = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: env() });
  await s.stop();
  const lines = stdoutLines(s.output());
  assert.ok(lines.some((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z Docker labs: listening on http:/.test(l)), s.output());
  assert.ok(lines.every((l) => !l.startsWith('{')), 'no JSON in the human format');
});

test('LOG_FORMAT=json: every line is one object with level, time and msg, from start-up to stop', { timeout: 90_000 }, async () => {
  const s = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: { ...env(), LOG_FORMAT: 'json' } });
  await s.stop();
  const objects = stdoutLines(s.output()).map((l) => {
    try {
      return JSON.parse(l) as { level: string; time: string; msg: string };
    } catch {
      assert.fail(`not a JSON line: ${l}`);
    }
  });
  for (const o of objects) {
    // Mostly info; a start-up beside other work on the same data dir may also warn (a leftover reaped).
    assert.ok(['info', 'warn', 'error'].includes(o.level), `a known level: ${JSON.stringify(o)}`);
    assert.ok(!Number.isNaN(Date.parse(o.time)), `time is a date: ${o.time}`);
  }
  assert.ok(objects.some((o) => o.level === 'info' && /^Docker labs: listening on http:/.test(o.msg)));
  assert.ok(objects.some((o) => /^SIGTERM: stopping/.test(o.msg)), 'the stop line too');
});

test('a LOG_FORMAT it does not know is refused with a sentence', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/main.ts')], { cwd: ROOT, env: { ...process.env, LOG_FORMAT: 'xml' }, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /LOG_FORMAT must be human or json, got "xml"/);
});
