// Labs from git, against a real `git daemon` (Debian's git) on 127.0.0.1: the server clones the
// repository's labs folder, a push plus the webhook serves the new lab through the real app, and a
// fetch that fails leaves the last good checkout in service, also across a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createApp, type AppDeps } from '../http/app.ts';
import { createLabsHookRoute } from '../http/labs-hook.ts';
import { loadLabs } from '../labs/load.ts';
import { systemTimers } from '../timers.ts';
import { createGitCli } from './git-cli.ts';
import { openGitLabs } from './git-labs.ts';
import { parseLabsRepos } from './labs-repos.ts';
import { createLabRegistry, type LabRegistry } from './registry.ts';
import type { LabsSync } from './labs-sync.ts';

const SECRET = 'a-hook-secret-of-some-length';
let tmp: string;
let daemon: ChildProcess | undefined;
let port: number;
let server: http.Server;
let base: string;
let sync: LabsSync;
let registry: LabRegistry;
const changed: string[] = [];
const logs: string[] = [];

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: tmp } }).toString();

function writeLab(work: string, id: string, title: string): void {
  fs.mkdirSync(path.join(work, 'course', id), { recursive: true });
  fs.writeFileSync(path.join(work, 'course', id, 'lab.md'), `---\ntitle: ${title}\nterms: 1\n---\n## Look around\n\n\`\`\`.term1\nls -la\n\`\`\`\n`);
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function startDaemon(): Promise<void> {
  const d = spawn('git', ['daemon', '--verbose', '--export-all', `--base-path=${path.join(tmp, 'served')}`, '--listen=127.0.0.1', `--port=${port}`, '--reuseaddr', path.join(tmp, 'served')], { stdio: ['ignore', 'ignore', 'pipe'] });
  daemon = d;
  await new Promise<void>((resolve, reject) => {
    let err = '';
    d.stderr!.on('data', (b) => {
      err += b;
      if (/Ready to rumble/.test(err)) resolve();
    });
    d.once('exit', (code) => reject(new Error(`git daemon exited with ${code}: ${err}`)));
  });
}

async function stopDaemon(): Promise<void> {
  const d = daemon;
  daemon = undefined;
  if (!d || d.exitCode !== null) return;
  const gone = new Promise((r) => d.once('exit', r));
  d.kill('SIGTERM');
  await gone;
}

async function labIds(): Promise<string[]> {
  const res = await fetch(`${base}/api/labs`);
  return ((await res.json()) as { id: string }[]).map((l) => l.id).sort();
}

function hook(headers: Record<string, string>, body = '{"ref":"refs/heads/main"}'): Promise<Response> {
  return fetch(`${base}/hooks/labs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

function openSync(): Promise<LabsSync> {
  return openGitLabs({
    repos: parseLabsRepos(`git://127.0.0.1:${port}/labs.git#main:course`),
    dataDir: path.join(tmp, 'data'),
    git: createGitCli({ timeoutMs: 30_000 }),
    timers: systemTimers,
    intervalMs: 0,
    onUpdated: async () => registry?.reload(),
    log: (m, e) => logs.push(`${m}${e ? `: ${(e as Error).message}` : ''}`),
  });
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-git-labs-'));
  fs.mkdirSync(path.join(tmp, 'served'));
  git(tmp, 'init', '--quiet', '--bare', '--initial-branch=main', path.join(tmp, 'served', 'labs.git'));
  const work = path.join(tmp, 'work');
  git(tmp, 'init', '--quiet', '--initial-branch=main', work);
  git(work, 'config', 'user.email', 'author@example.org');
  git(work, 'config', 'user.name', 'Lab Author');
  writeLab(work, 'from-git', 'A lab kept in git');
  fs.writeFileSync(path.join(work, 'README.md'), 'not a lab folder\n');
  git(work, 'add', '.');
  git(work, 'commit', '--quiet', '-m', 'first lab');
  git(work, 'push', '--quiet', path.join(tmp, 'served', 'labs.git'), 'main');
  port = await freePort();
  await startDaemon();

  const local = path.join(tmp, 'local-labs');
  fs.mkdirSync(local);
  fs.writeFileSync(path.join(local, 'local.md'), '# A local lab\n');
  sync = await openSync();
  registry = await createLabRegistry({ dir: local, extraDirs: () => sync.dirs(), load: loadLabs, watch: false, timers: systemTimers, log: () => {}, onChange: (ids) => changed.push(...ids) });
  const deps = {
    driver: {}, config: {}, labs: registry, secret: 'cookie-secret', webDistDir: path.join(tmp, 'no-dist'),
    sessions: { stats: () => ({}), liveSessions: () => [] }, store: { progress: async () => [] },
    now: () => Date.now(), log: () => {},
    routes: [createLabsHookRoute({ secret: SECRET, refresh: () => sync.refresh(), log: () => {} })],
  } as unknown as AppDeps;
  server = http.createServer(createApp(deps));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await stopDaemon();
  sync?.dispose();
  registry?.dispose();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the labs folder of a git repository is cloned at start and served beside the local labs', async () => {
  assert.deepEqual(await labIds(), ['from-git', 'local'], logs.join('\n'));
  assert.match(sync.dirs()[0]!, /labs-repos\/127-0-0-1-[^/]+\/tree-[0-9a-f]{40}\/course$/);
});

test('a push, then the webhook with its secret: the new lab is served, open pages are told', async () => {
  const work = path.join(tmp, 'work');
  writeLab(work, 'pushed-later', 'A lab pushed later');
  git(work, 'add', '.');
  git(work, 'commit', '--quiet', '-m', 'second lab');
  git(work, 'push', '--quiet', path.join(tmp, 'served', 'labs.git'), 'main');
  const head = git(work, 'rev-parse', 'HEAD').trim();

  for (const wrong of [{}, { authorization: 'Bearer not-the-secret' }, { 'x-hub-signature-256': 'sha256=00' }] as Record<string, string>[]) {
    assert.equal((await hook(wrong)).status, 401);
  }
  assert.deepEqual(await labIds(), ['from-git', 'local'], 'nothing refreshed without the secret');

  const res = await hook({ authorization: `Bearer ${SECRET}` });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { ok: boolean; repos: { status: string; commit: string }[] };
  assert.deepEqual(body.repos.map((r) => [r.status, r.commit]), [['updated', head]]);
  assert.deepEqual(await labIds(), ['from-git', 'local', 'pushed-later']);
  assert.ok(changed.includes('pushed-later'), 'the registry announced the new lab');

  // A host that signs its deliveries (HMAC-SHA256 of the body): nothing new to fetch.
  const payload = '{"ref":"refs/heads/main","after":"' + head + '"}';
  const signed = await hook({ 'x-hub-signature-256': `sha256=${crypto.createHmac('sha256', SECRET).update(payload).digest('hex')}` }, payload);
  assert.equal(signed.status, 200);
  assert.equal(((await signed.json()) as { repos: { status: string }[] }).repos[0]!.status, 'unchanged');
});

test('a fetch that fails keeps the last good checkout in service, also after a restart', async () => {
  await stopDaemon();
  const res = await hook({ 'x-gitlab-token': SECRET });
  assert.equal(res.status, 502);
  const body = (await res.json()) as { ok: boolean; repos: { status: string; error: string; commit: string }[] };
  assert.equal(body.ok, false);
  assert.equal(body.repos[0]!.status, 'failed');
  assert.match(body.repos[0]!.error, /git fetch: /);
  assert.deepEqual(await labIds(), ['from-git', 'local', 'pushed-later']);

  // A server restarting while the git host is down serves what it served before.
  const restarted = await openSync();
  assert.deepEqual(restarted.dirs(), sync.dirs());
  assert.deepEqual((await loadLabs(restarted.dirs()[0]!)).labs.map((l) => l.id).sort(), ['from-git', 'pushed-later']);
  restarted.dispose();
  await startDaemon();
});
