import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scrollback } from './scrollback.ts';

test('keeps everything under the limit', () => {
  const s = new Scrollback(100);
  s.push('hello ');
  s.push('world');
  assert.equal(s.text(), 'hello world');
});

test('keeps only the tail, cut at a line boundary', () => {
  const s = new Scrollback(20);
  for (let i = 0; i < 50; i++) s.push(`line ${i}\r\n`);
  const t = s.text();
  assert.ok(t.length <= 20);
  assert.ok(t.startsWith('line '), JSON.stringify(t));
  assert.ok(t.endsWith('line 49\r\n'));
});

test('memory stays bounded under a flood', () => {
  const s = new Scrollback(1000);
  for (let i = 0; i < 100_000; i++) s.push('y\n');
  assert.ok(s.length <= 1000);
  assert.ok(s.text().length <= 1000);
});
