import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePattern, patternError, readPattern, showPattern } from './pattern.ts';

test('"/re/flags" with flags from imsu is that regex with exactly those flags', () => {
  assert.deepEqual(readPattern('/^from golang/i'), { source: '^from golang', flags: 'i', delimited: true });
  assert.deepEqual(readPattern('/a.b/ms'), { source: 'a.b', flags: 'ms', delimited: true });
  assert.deepEqual(readPattern('/app/'), { source: 'app', flags: '', delimited: true });
  assert.equal(compilePattern('/^FROM golang/i').test('FROM GOLANG:1.19'), true);
  // No m unless asked: ^ is the start of the text.
  assert.equal(compilePattern('/^FROM/').test('# syntax\nFROM scratch'), false);
  assert.equal(compilePattern('/^FROM/m').test('# syntax\nFROM scratch'), true);
});

test('anything else is the regex as written, multiline: slashes and letters stay the text they spell', () => {
  for (const p of ['/x/g', '/x/y', '/x/ii', '/usr/local/bin/app', '//', 'plain', '^FROM scratch$', '\\/app\\/']) {
    assert.equal(readPattern(p).delimited, false, p);
    assert.equal(readPattern(p).source, p, p);
    assert.equal(readPattern(p).flags, 'm', p);
  }
  assert.equal(compilePattern('/x/g').test('say /x/g here'), true);
  assert.equal(compilePattern('/x/g').test('x'), false);
  assert.equal(compilePattern('/usr/local/bin/app').test('COPY app /usr/local/bin/app'), true);
  assert.equal(compilePattern('^FROM scratch$').test('# syntax\nFROM scratch\nCMD x'), true);
});

test('g and y never reach a RegExp: a check must give the same answer twice', () => {
  const re = compilePattern('/a/g');
  assert.equal(re.flags.includes('g'), false);
  assert.equal(compilePattern('/a/i').test('a') && compilePattern('/a/i').test('a'), true);
});

test('an invalid regex is named with the reason, in both forms', () => {
  assert.equal(patternError('/(/i'), 'Unterminated group');
  assert.equal(patternError('FROM (golang'), 'Unterminated group');
  assert.equal(patternError('/a: (/s'), 'Unterminated group');
  assert.throws(() => compilePattern('/(/i'), SyntaxError);
  assert.equal(patternError('/^from/i'), null);
  assert.equal(patternError('/a\\-/u'), 'Invalid escape', 'the body is compiled with its flags');
  // Not the /re/flags form (g), so read as written: its "(" still opens a group.
  assert.equal(patternError('/(/g'), 'Unterminated group');
  assert.equal(patternError('/x/g'), null);
});

test('shown as the author reads it', () => {
  assert.equal(showPattern('/^from/i'), '/^from/i');
  assert.equal(showPattern('^FROM'), '/^FROM/');
});
