// The ssh server's pure parts and its host key file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { hostKeyFile, loadOrCreateHostKey } from './host-key.ts';
import { loadSshConfig, SshConfigError } from './ssh-config.ts';
import { parsePublicKey } from './ssh-keys.ts';
import { parseSshUser } from './ssh-target.ts';

test('the host key is made once per data dir, mode 0600, and kept', () => {
  const a = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-hostkey-'));
  const b = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-hostkey-'));
  try {
    const first = loadOrCreateHostKey(a);
    assert.equal(first.created, true);
    assert.equal(fs.statSync(hostKeyFile(a)).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(hostKeyFile(a))).mode & 0o777, 0o700);
    const again = loadOrCreateHostKey(a);
    assert.equal(again.created, false);
    assert.equal(again.fingerprint, first.fingerprint, 'a restart keeps the key');
    assert.notEqual(loadOrCreateHostKey(b).fingerprint, first.fingerprint, 'another install has its own');
    fs.chmodSync(hostKeyFile(a), 0o644);
    loadOrCreateHostKey(a);
    assert.equal(fs.statSync(hostKeyFile(a)).mode & 0o777, 0o600, 'a readable key is tightened');
    assert.match(first.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
  } finally {
    fs.rmSync(a, { recursive: true, force: true });
    fs.rmSync(b, { recursive: true, force: true });
  }
});

test('user names name a node and a session', () => {
  assert.deepEqual(parseSshUser('node2.AbC_d-123456'), { node: 2, sessionId: 'AbC_d-123456' });
  for (const bad of ['root', 'node0.abcdefgh', 'node1.', 'node1.short', 'node1.abc/defgh', '1.abcdefgh', 'node100.abcdefgh', 42]) assert.equal(parseSshUser(bad), undefined, String(bad));
});

test('SSH_PORT turns ssh on; anything but a port is refused', () => {
  assert.equal(loadSshConfig({}, '0.0.0.0'), undefined);
  assert.deepEqual(loadSshConfig({ SSH_PORT: '2222' }, '0.0.0.0'), { port: 2222, host: '0.0.0.0' });
  assert.deepEqual(loadSshConfig({ SSH_PORT: '0', SSH_HOST: '127.0.0.1' }, '0.0.0.0'), { port: 0, host: '127.0.0.1' });
  for (const bad of ['ssh', '70000', '-1', '22.5']) assert.throws(() => loadSshConfig({ SSH_PORT: bad }, 'h'), SshConfigError);
});

test('a pasted key: one public key line, never a private key', () => {
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'ana@laptop' });
  const k = parsePublicKey(`  ${pair.public}\n`);
  assert.equal(k.comment, 'ana@laptop');
  assert.match(k.fingerprint, /^SHA256:/);
  assert.equal(parsePublicKey(k.publicKey).fingerprint, k.fingerprint);
  assert.throws(() => parsePublicKey(pair.private), /private key/);
  assert.throws(() => parsePublicKey('ssh-ed25519 AAAAnotbase64'), /not an OpenSSH public key/);
  assert.throws(() => parsePublicKey(`${pair.public}\n${pair.public}`), /one key at a time/);
  assert.throws(() => parsePublicKey('x'.repeat(9000)), /at most/);
  assert.throws(() => parsePublicKey(''), /Paste a public key/);
});

test('the server refuses to start on an SSH_PORT that is not a port, with a sentence', async () => {
  const { spawnSync } = await import('node:child_process');
  const root = path.resolve(import.meta.dirname, '..', '..');
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'server/main.ts')], { cwd: root, env: { ...process.env, SSH_PORT: 'twenty-two' }, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /SSH_PORT must be a port number \(0-65535\), got "twenty-two"/);
});
