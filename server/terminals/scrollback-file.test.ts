import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openScrollbackFile } from './scrollback-file.ts';

test('appends, survives a reopen, and stays bounded', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-sb-'));
  try {
    const file = path.join(dir, 'sub', 't.log');
    const a = openScrollbackFile(file, 100);
    a.append('hello ');
    a.append('wörld');
    assert.equal(openScrollbackFile(file, 100).load(), 'hello wörld');
    for (let i = 0; i < 1000; i++) a.append(`line ${i}\n`);
    assert.ok(fs.statSync(file).size + fs.statSync(file + '.1').size <= 2 * 100 + 20, 'two files of about the limit each');
    assert.ok(a.load().endsWith('line 999\n'));
    assert.ok(a.load().length <= 100);
    a.remove();
    assert.equal(fs.existsSync(file), false);
    assert.equal(fs.existsSync(file + '.1'), false);
    assert.equal(a.load(), '');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('keeps one descriptor open while appending, and gives it back on close', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-sb-'));
  const fds = () => fs.readdirSync('/proc/self/fd').length;
  try {
    const file = path.join(dir, 't.log');
    const a = openScrollbackFile(file, 1_000_000);
    const before = fds();
    for (let i = 0; i < 100; i++) a.append(`chunk ${i}\n`);
    assert.equal(fds(), before + 1);
    assert.equal(openScrollbackFile(file, 1_000_000).load().split('\n').length, 101, 'every chunk is on disk at once');
    a.close();
    assert.equal(fds(), before);
    a.append('after close\n');
    assert.ok(a.load().endsWith('after close\n'));
    a.remove();
    assert.equal(fds(), before);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('what is replayed after a reopen is exactly the last limit chars, across the file switch', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-sb-'));
  try {
    const file = path.join(dir, 't.log');
    const a = openScrollbackFile(file, 1000);
    let all = '';
    for (let i = 0; i < 3000; i++) {
      const piece = `${i}üü€,`;
      a.append(piece);
      all += piece;
      // Right after each switch too: the two files must still cover the limit.
      if (all.length > 1000 && openScrollbackFile(file, 1000).load() !== all.slice(-1000)) assert.fail(`short replay after ${i + 1} appends`);
    }
    a.close();
    assert.equal(openScrollbackFile(file, 1000).load(), all.slice(-1000));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
