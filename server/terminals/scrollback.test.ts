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

test('memory stays bounded under a flood: what is held never exceeds twice the limit', () => {
  const limit = 1000;
  const s = new Scrollback(limit);
  // What the instance really holds: `length` is clamped to the limit, so it cannot show growth.
  const held = () => (s as unknown as { chunks: string[] }).chunks.reduce((n, c) => n + c.length, 0);
  let most = 0;
  for (let i = 0; i < 100_000; i++) {
    s.push('y\n');
    most = Math.max(most, held());
  }
  assert.ok(most <= 2 * limit, `held up to ${most} chars for a ${limit}-char scrollback`);
  assert.ok(most > limit, 'compaction waits until twice the limit (pushes stay cheap)');
  assert.ok(s.text().length <= limit);
  assert.ok(held() <= limit, 'reading the text compacts');
});

test('one huge chunk is cut down at once', () => {
  const s = new Scrollback(1000);
  s.push('x'.repeat(50_000) + '\nlast line\n');
  assert.ok((s as unknown as { chunks: string[] }).chunks.reduce((n, c) => n + c.length, 0) <= 1000);
  assert.equal(s.text(), 'last line\n');
});
