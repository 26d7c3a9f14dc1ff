// The event:create CLI, spawned as a host's set-up script would run it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEventStore } from '../workshop/event-store.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('event:create writes the event to the database and prints its join link and code', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-event-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const db = path.join(dir, 'db.sqlite');
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'server/cli/event-create.ts', ...args], {
    cwd: root, encoding: 'utf8', env: { ...process.env, DB_FILE: db, LABS_DIR: 'labs', PUBLIC_URL: 'https://labs.example.org' },
  });
  const ok = run('--name', 'DevConf 2026', '--labs', '03-multi-stage,04-build-target', '--start', '2026-05-04T09:00Z', '--end', '2026-05-04T12:00Z', '--expected', '40', '--capacity', '50');
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const last = JSON.parse(ok.stdout.trim().split('\n').pop()!) as { id: string; code: string; joinUrl: string };
  assert.equal(last.joinUrl, `https://labs.example.org/e/${last.code}`);
  assert.match(ok.stdout, new RegExp(`code: +${last.code}`));
  const store = await openEventStore(db);
  t.after(() => store.close());
  const ev = (await store.event(last.id))!;
  assert.deepEqual({ ...ev, id: '', code: '', createdAt: 0 }, {
    id: '', code: '', createdAt: 0, name: 'DevConf 2026', labs: ['03-multi-stage', '04-build-target'],
    startsAt: Date.UTC(2026, 4, 4, 9), endsAt: Date.UTC(2026, 4, 4, 12), expected: 40, capacity: 50,
  });

  const bad = run('--name', 'X', '--labs', 'no-such-lab', '--start', '+0m', '--end', '+1h', '--expected', '5');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /event:create: There is no lab called "no-such-lab"/);
  const typo = run('--nam', 'X');
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /unknown option --nam/);
});
