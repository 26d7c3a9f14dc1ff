import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCookieSecret, learnerCookieOptions, SECRET_FILE_NAME } from './secrets.ts';
import { redactToken, tokenMatches } from './host-token.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-secret-'));

test('a generated secret goes to a 0600 file and is reused', () => {
  const dir = tmp();
  const old = process.umask(0o022);
  try {
    const s = loadCookieSecret({ dataDir: dir });
    assert.ok(Buffer.byteLength(s) >= 32);
    const st = fs.statSync(path.join(dir, SECRET_FILE_NAME));
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(loadCookieSecret({ dataDir: dir }), s);
  } finally {
    process.umask(old);
    fs.rmSync(dir, { recursive: true });
  }
});

test('secrets shorter than 32 bytes are refused, from the environment, a file or the data dir', () => {
  const dir = tmp();
  assert.throws(() => loadCookieSecret({ dataDir: dir, value: 'short' }), /COOKIE_SECRET is 5 bytes; a cookie secret needs at least 32/);
  fs.writeFileSync(path.join(dir, 'f'), 'x'.repeat(31) + '\n');
  assert.throws(() => loadCookieSecret({ dataDir: dir, file: path.join(dir, 'f') }), /at least 32/);
  assert.equal(loadCookieSecret({ dataDir: dir, value: 'y'.repeat(32) }), 'y'.repeat(32));
  fs.writeFileSync(path.join(dir, 'g'), 'z'.repeat(40) + '\n');
  assert.equal(loadCookieSecret({ dataDir: dir, file: path.join(dir, 'g') }), 'z'.repeat(40));
  fs.rmSync(dir, { recursive: true });
});

test('a strong legacy secret from the database is adopted; a weak one is replaced', () => {
  const d1 = tmp();
  assert.equal(loadCookieSecret({ dataDir: d1, legacy: () => 'L'.repeat(43) }), 'L'.repeat(43));
  const d2 = tmp();
  assert.notEqual(loadCookieSecret({ dataDir: d2, legacy: () => 'weak' }), 'weak');
  fs.rmSync(d1, { recursive: true });
  fs.rmSync(d2, { recursive: true });
});

test('the host token: constant-time match, nothing matches an unset token, logs show 4 chars', () => {
  assert.equal(tokenMatches('abc123', 'abc123'), true);
  assert.equal(tokenMatches('abc124', 'abc123'), false);
  assert.equal(tokenMatches('abc', 'abc123'), false);
  assert.equal(tokenMatches('', ''), false);
  assert.equal(tokenMatches(undefined, undefined), false);
  assert.equal(tokenMatches(['abc123'], 'abc123'), false);
  assert.equal(redactToken('supersecrettoken'), '…oken');
});

test('the learner cookie is Secure exactly when served over TLS', () => {
  assert.equal(learnerCookieOptions(true).secure, true);
  assert.equal(learnerCookieOptions(false).secure, false);
  assert.equal(learnerCookieOptions(true).httpOnly, true);
});
