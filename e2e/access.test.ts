// Issue 20, Share and ssh, in Chromium and with Debian's openssh-client against the real server:
// a read-write share link opened in a second browser context types into the owner's shell (the
// owner sees it), revoking it cuts that context off at once, a read-only link cannot type; a
// one-time token shown on the owner's page logs `ssh` in to node1 and `docker ps` prints its header;
// a token of another learner's session and a used token are refused; a link outlives a server restart
// and ends with its session.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newLabPage, screenshot, startServerProc, tempDir, termText, typeInTerminal, uniqueOwner, waitForTermText, ROOT, type ServerProc } from './harness.ts';
import { cleanupOwner } from './cleanup.ts';
import { defaultDataDir } from '../server/config.ts';
import { hostKeyFile } from '../server/ssh/host-key.ts';

const DATA = defaultDataDir(ROOT);
const labsDir = tempDir('access-labs');
fs.mkdirSync(path.join(labsDir, 'access-lab'));
fs.writeFileSync(path.join(labsDir, 'access-lab', 'lab.md'), `---
title: Access lab
terms: 1
---
## Look around

\`\`\`.term1
docker ps
\`\`\`
`);
const PROMPT = /\[node1\] \/root \$/;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs Debian's ssh with the token given through SSH_ASKPASS; `input` is typed once the shell shows. */
function runSsh(a: { port: number; user: string; token: string; knownHosts: string; askpass: string; input?: string; until?: RegExp; timeoutMs?: number; command?: string }): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn('ssh', [
      ...(a.command ? ['-T'] : ['-tt']), '-p', String(a.port),
      '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${a.knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=keyboard-interactive,password', '-o', 'NumberOfPasswordPrompts=1',
      '-o', 'ConnectTimeout=30', '-F', '/dev/null',
      `${a.user}@127.0.0.1`,
      ...(a.command ? [a.command] : []),
    ], { env: { ...process.env, SSH_ASKPASS: a.askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0', LABLAB_TOKEN: a.token }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '', typed = false;
    const timer = setTimeout(() => p.kill('SIGTERM'), a.timeoutMs ?? 60_000);
    p.stdout.on('data', (d) => {
      out += d;
      if (!typed && a.input && PROMPT.test(out)) {
        typed = true;
        p.stdin.write(a.input);
      }
      if (a.until?.test(out)) p.kill('SIGTERM');
    });
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('share links and ssh', () => {
  const owner = uniqueOwner('access');
  const db = path.join(tempDir('access-db'), 'db.sqlite');
  let server: ServerProc;
  let browser: Browser;
  let sshPort: number;
  let ownerPage: Page;

  before(async () => {
    browser = await launchBrowser();
    server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: { DB_FILE: db, SSH_PORT: '0', SSH_HOST: '127.0.0.1' } });
    sshPort = Number(/ssh: serving on 127\.0\.0\.1:(\d+)/.exec(server.output())?.[1]);
    assert.ok(sshPort > 0, `the server says where ssh listens:\n${server.output()}`);
    ownerPage = await newLabPage(browser);
    await ownerPage.goto(`${server.url}/labs/access-lab`);
    await waitForTermText(ownerPage, 1, PROMPT, 600_000);
    await ownerPage.getByRole('button', { name: /^Share/ }).click();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await cleanupOwner(DATA, owner);
  });

  /** Makes a link on the owner's page; returns its address. */
  async function makeLink(mode: 'read-only' | 'read-write'): Promise<string> {
    const before = await ownerPage.locator(`#access-links li[data-mode="${mode}"] .access-url`).count();
    await ownerPage.getByRole('button', { name: `Make a ${mode} link` }).click();
    const input = ownerPage.locator(`#access-links li[data-mode="${mode}"] .access-url`).nth(before);
    await input.waitFor();
    return input.inputValue();
  }

  test('a read-write guest types into the owner\'s shell; revoking cuts them off at once', async () => {
    const url = await makeLink('read-write');
    assert.match(url, /\/share\/[A-Za-z0-9_-]{43}$/);
    const guest = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
    await guest.goto(url);
    assert.match(await guest.locator('#guest-banner').innerText(), /guest in someone else's session[\s\S]*read-write/);
    await waitForTermText(guest, 1, PROMPT);
    await typeInTerminal(guest, 1, 'echo guest-typed-$((6*7))\n');
    await waitForTermText(ownerPage, 1, /guest-typed-42/);
    await waitFor('the owner\'s list showing the guest', async () => (await ownerPage.locator('#access-visitors li[data-visitor="guest"][data-mode="read-write"]').count()) === 1);
    await screenshot(guest, 'access-guest-read-write');
    await screenshot(ownerPage, 'access-owner-panel');

    await ownerPage.locator('#access-links li[data-mode="read-write"]').getByRole('button', { name: 'Revoke' }).click();
    await guest.locator('[data-guest-ended]').waitFor({ timeout: 10_000 });
    assert.match(await guest.locator('[data-guest-ended]').innerText(), /revoked/);
    assert.equal(await guest.evaluate(() => document.body.dataset.guest), 'ended');
    await waitFor('the owner\'s list emptied', async () => (await ownerPage.locator('#access-visitors li[data-visitor="guest"]').count()) === 0, 10_000);
    // Typing in the cut-off page reaches nothing: the owner's own marker comes back, the guest's text never does.
    await typeInTerminal(guest, 1, 'echo after-revoke\n');
    await typeInTerminal(ownerPage, 1, 'echo owner-$((2*21))-marker\n');
    await waitForTermText(ownerPage, 1, /owner-42-marker/);
    assert.doesNotMatch(await termText(ownerPage, 1), /after-revoke/);
    const again = await guest.goto(url);
    assert.equal(again?.status(), 404, 'the revoked link no longer opens');
    await guest.context().close();
  });

  test('a read-only guest sees the shell and cannot type (refused by the server)', async () => {
    const url = await makeLink('read-only');
    const guest = await (await browser.newContext()).newPage();
    await guest.goto(url);
    assert.match(await guest.locator('#guest-banner').innerText(), /read-only/);
    await waitForTermText(guest, 1, PROMPT);
    await typeInTerminal(guest, 1, 'echo ro-typed\n');
    await guest.locator('.toast', { hasText: 'read-only' }).first().waitFor({ timeout: 10_000 });
    await typeInTerminal(ownerPage, 1, 'echo owner-$((3*3))-second\n');
    await waitForTermText(ownerPage, 1, /owner-9-second/);
    await waitForTermText(guest, 1, /owner-9-second/);
    assert.doesNotMatch(await termText(ownerPage, 1), /ro-typed/);
    await screenshot(guest, 'access-guest-read-only');
    await guest.context().close();
  });

  test('ssh with a one-time token runs docker ps in node1; another session\'s token and a used token are refused', async () => {
    const dir = tempDir('access-ssh');
    const knownHosts = path.join(dir, 'known_hosts');
    const pub = fs.readFileSync(`${hostKeyFile(DATA)}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    fs.writeFileSync(knownHosts, `[127.0.0.1]:${sshPort} ${pub}\n`);
    const askpass = path.join(dir, 'askpass.sh');
    fs.writeFileSync(askpass, '#!/bin/sh\nprintf \'%s\\n\' "$LABLAB_TOKEN"\n', { mode: 0o755 });

    const token = async (page: Page) => {
      await page.getByRole('button', { name: 'Make a one-time ssh token' }).click();
      const value = page.locator('#ssh-token-value');
      await waitFor('a new token', async () => (await value.count()) && (await value.innerText()).length === 43);
      const t = await value.innerText();
      const cmd = await page.locator('.ssh-command').innerText();
      await value.evaluate((el) => el.remove()); // the next token is told apart from this one
      return { token: t, user: /(node1\.\S+)@/.exec(cmd)![1]!, cmd };
    };

    const mine = await token(ownerPage);
    assert.match(mine.cmd, new RegExp(`^ssh -p ${sshPort} node1\\.[A-Za-z0-9_-]+@`), 'the page shows the command to run');
    const ok = await runSsh({ port: sshPort, user: mine.user, token: mine.token, knownHosts, askpass, input: 'docker ps\n', until: /CONTAINER ID\s+IMAGE/ });
    assert.match(ok.out, /CONTAINER ID\s+IMAGE\s+COMMAND/, `ssh printed:\n${ok.out}\n${ok.err}`);
    await waitForTermText(ownerPage, 1, /CONTAINER ID\s+IMAGE/);

    // Another learner's own session and token.
    const other = await newLabPage(browser);
    await other.goto(`${server.url}/labs/access-lab`);
    await waitForTermText(other, 1, PROMPT, 600_000);
    await other.getByRole('button', { name: /^Share/ }).click();
    const theirs = await token(other);
    assert.notEqual(theirs.user, mine.user);
    const cross = await runSsh({ port: sshPort, user: mine.user, token: theirs.token, knownHosts, askpass, timeoutMs: 30_000 });
    assert.equal(cross.code, 255, `another session's token is refused:\n${cross.out}\n${cross.err}`);
    assert.match(cross.err, /Permission denied/);
    const reused = await runSsh({ port: sshPort, user: mine.user, token: mine.token, knownHosts, askpass, timeoutMs: 30_000 });
    assert.equal(reused.code, 255, `a used token is refused:\n${reused.out}\n${reused.err}`);
    assert.match(reused.err, /Permission denied/);
    // Their token still opens their own session; a command instead of a shell runs in the node and returns its status.
    const own = await runSsh({ port: sshPort, user: theirs.user, token: theirs.token, knownHosts, askpass, command: 'docker ps && hostname' });
    assert.equal(own.code, 0, `ssh … docker ps:\n${own.out}\n${own.err}`);
    assert.match(own.out, /CONTAINER ID\s+IMAGE\s+COMMAND[\s\S]*\nnode1\n$/);
    await other.context().close();
  });

  test('a link outlives a server restart, as its session does, and ends with the session; the host key is kept', async () => {
    const url = await makeLink('read-write');
    const linkPath = new URL(url).pathname;
    const keyOf = (out: string) => /host key (SHA256:[A-Za-z0-9+/]+)/.exec(out)?.[1];
    const fingerprint = keyOf(server.output());
    assert.ok(fingerprint);
    await server.stop();
    server = await startServerProc({ labsDir, dataDir: DATA, ownerId: owner, env: { DB_FILE: db, SSH_PORT: '0', SSH_HOST: '127.0.0.1' } });
    assert.equal(keyOf(server.output()), fingerprint, 'the same host key after a restart');
    const guest = await (await browser.newContext()).newPage();
    await guest.goto(`${server.url}${linkPath}`);
    await waitForTermText(guest, 1, PROMPT, 120_000);
    await typeInTerminal(guest, 1, 'echo after-restart-$((5*5))\n');
    await waitForTermText(guest, 1, /after-restart-25/);
    // The owner comes back (same browser, same cookie) and ends the session: the guest is sent away at once.
    await ownerPage.goto(`${server.url}/labs/access-lab`);
    await waitForTermText(ownerPage, 1, /after-restart-25/, 120_000);
    ownerPage.once('dialog', (d) => void d.accept());
    await ownerPage.getByRole('button', { name: 'End session' }).click();
    await guest.locator('[data-guest-ended]').waitFor({ timeout: 30_000 });
    assert.match(await guest.locator('[data-guest-ended]').innerText(), /ended/);
    assert.equal((await guest.goto(`${server.url}${linkPath}`))?.status(), 404, 'the link ended with the session');
    await guest.context().close();
  });
});
