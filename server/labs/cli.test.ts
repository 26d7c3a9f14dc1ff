// The labs:check CLI, spawned as a user would run it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli/labs-check.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, LABS_DIR: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('labs:check passes on labs/', () => {
  const r = run('labs');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^\d+ labs OK in labs: \d+ steps, \d+ checks\n$/);
});

test('labs:check fails on broken labs with file:line: message lines', () => {
  const r = run('server/labs/fixtures/labs-broken');
  assert.equal(r.code, 1, r.out + r.err);
  const lines = r.out.trim().split('\n');
  const summary = lines.pop()!;
  assert.match(summary, /^\d+ problems and 2 warnings in 5 of 6 labs \(server\/labs\/fixtures\/labs-broken\)$/);
  const problems = lines.filter((l) => l !== '');
  assert.ok(problems.length >= 8);
  for (const l of problems) assert.match(l, /^server\/labs\/fixtures\/labs-broken\/[\w./-]+\.md:\d+: \S.*$/, l);
  assert.ok(problems.includes('server/labs/fixtures/labs-broken/terms-nine.md:3: terms must be a whole number from 0 to 6, not 9'));
  // Warnings say so, right after file:line, and sit in line order among the errors of their file.
  const i = problems.findIndex((l) => l.startsWith('server/labs/fixtures/labs-broken/term-errors.md:11: warning: code block opened here'));
  assert.ok(i > 0 && problems[i - 1]!.startsWith('server/labs/fixtures/labs-broken/term-errors.md:7: '), problems.join('\n'));
});

test('labs:check --strict passes on labs/ and refuses unknown options', () => {
  const r = run('--strict', 'labs');
  assert.equal(r.code, 0, r.out + r.err);
  const bad = run('--stritc', 'labs');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown option "--stritc"/);
});

test('labs:check reads LABS_DIR and reports a missing folder', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli/labs-check.ts'], {
    cwd: root, encoding: 'utf8', env: { ...process.env, LABS_DIR: 'server/labs/fixtures/labs-good' },
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /3 labs OK in server\/labs\/fixtures\/labs-good/);
  const missing = run('no/such/dir');
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cannot read the labs folder "no\/such\/dir"/);
});
