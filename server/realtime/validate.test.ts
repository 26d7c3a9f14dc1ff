import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validTerm, clampSize } from './validate.ts';
import { originAllowed } from './socket-server.ts';

test('terminal index must be an integer from 1 to 6', () => {
  for (const ok of [1, 3, 6]) assert.equal(validTerm(ok), true);
  for (const bad of [0, 7, -1, 1.5, '1', null, undefined, NaN]) assert.equal(validTerm(bad), false, String(bad));
});

test('resize is clamped, including 0x0 and absurd sizes', () => {
  assert.deepEqual(clampSize(0, 0), { cols: 10, rows: 3 });
  assert.deepEqual(clampSize(1e9, 1e9), { cols: 500, rows: 200 });
  assert.deepEqual(clampSize(NaN, Infinity), { cols: 10, rows: 3 });
  assert.deepEqual(clampSize(120.7, 40.2), { cols: 120, rows: 40 });
  assert.equal(clampSize('80', 24), undefined);
});

test('websocket origin must match the host unless allowed explicitly', () => {
  assert.equal(originAllowed('http://localhost:8080', 'localhost:8080', []), true);
  assert.equal(originAllowed('http://evil.example', 'localhost:8080', []), false);
  assert.equal(originAllowed(undefined, 'localhost:8080', []), false);
  assert.equal(originAllowed('null', 'localhost:8080', []), false);
  assert.equal(originAllowed('https://labs.example.org', 'internal:8080', ['https://labs.example.org']), true);
});
