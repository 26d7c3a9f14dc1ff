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

test('memory stays bounded under a flood: what is held never exceeds the limit plus one chunk', () => {
  const limit = 10_000;
  const s = new Scrollback(limit);
  // What the instance really holds: `length` is clamped to the limit, so it cannot show growth.
  const held = () => (s as unknown as { chunks: string[] }).chunks.reduce((n, c) => n + c.length, 0);
  const entries = () => (s as unknown as { chunks: string[] }).chunks.length;
  let most = 0;
  let mostEntries = 0;
  for (let i = 0; i < 100_000; i++) {
    s.push(i % 100 === 0 ? 'z'.repeat(3000) + '\n' : 'y\n');
    most = Math.max(most, held());
    mostEntries = Math.max(mostEntries, entries());
  }
  assert.ok(most <= limit + 4096 + 3001, `held up to ${most} chars for a ${limit}-char scrollback`);
  assert.ok(mostEntries <= 6, `typed characters are merged, not kept one entry each (${mostEntries} entries)`);
  assert.ok(s.text().length <= limit);
  assert.ok(s.text().endsWith('y\ny\n'));
});

test('a long stream keeps exactly its last chars', () => {
  const s = new Scrollback(50);
  let all = '';
  for (let i = 0; i < 5000; i++) {
    const piece = `${i},`;
    s.push(piece);
    all += piece;
  }
  assert.equal(s.text(), all.slice(-50));
});

test('one huge chunk is cut down at once', () => {
  const s = new Scrollback(1000);
  s.push('x'.repeat(50_000) + '\nlast line\n');
  assert.ok((s as unknown as { chunks: string[] }).chunks.reduce((n, c) => n + c.length, 0) <= 1000, 'cut as it arrives');
  assert.equal(s.text(), 'last line\n');
});
