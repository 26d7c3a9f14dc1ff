import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignListFences } from './kramdown-fences.ts';

test('a fence closed left of its list item is indented to the item, with a warning at the close; line count kept', () => {
  const src = ['1. Run it:', '', '   ```.term1', '   echo hi', '  ```', '', '```.term1', 'echo after', '```'].join('\n');
  const r = alignListFences(src);
  assert.equal(r.src, src.replace('\n  ```\n', '\n   ```\n'));
  assert.equal(r.src.split('\n').length, src.split('\n').length);
  assert.deepEqual(r.warnings.map((w) => w.line), [5]);
  assert.match(r.warnings[0]!.message, /opened at line 3 is closed 2 spaces in, left of its list item's text \(3\)/);
});

test('content lines and a lazily opened fence are brought into the item too', () => {
  const r = alignListFences(['- Build:', '  ```', 'FROM busybox', '  ```'].join('\n'));
  assert.equal(r.src, ['- Build:', '  ```', '  FROM busybox', '  ```'].join('\n'));
  assert.deepEqual(r.warnings.map((w) => w.line), [3]);
  const lazy = alignListFences(['10. Then:', ' ```', ' ls', ' ```'].join('\n'));
  assert.equal(lazy.src, ['10. Then:', '    ```', '    ls', '    ```'].join('\n'));
  assert.match(lazy.warnings[0]!.message, /this code block opens 1 spaces in/);
});

test('what CommonMark and kramdown read alike is left alone', () => {
  for (const src of [
    '1. Item\n\n   ```\n   ok\n   ```\n', // well indented
    '1. Item\n\n```\ncode at column 0 after the list\n```\n', // a fence outside the list
    '1. Item\n\ntext\n\n  ```\n  after the list ended\n```\n', // the list ended at the blank line before "text"
    '1. Item\n\n       indented code\n       ```\n\n# Heading\n', // indented code, not a fence
    '```\n- not a list\n  ```\n', // a list marker inside a fence
    '1. Item\n   ```\n   never closed\n',
  ]) {
    const r = alignListFences(src);
    assert.equal(r.src, src, src);
    assert.deepEqual(r.warnings, [], src);
  }
});
