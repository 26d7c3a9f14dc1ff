// Page shells: what a lab's author sees of its warnings and problems.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labPage } from './pages.ts';
import type { Lab } from '../labs/types.ts';

const boot = { labId: 'x', title: 'X', terms: 1, steps: [], progress: [], maxPasteBytes: 1000 };
const lab = (over: Partial<Lab>): Lab => ({
  id: 'x', file: '/labs/x/lab.md', title: 'X', description: '', tags: [], images: [], terms: 1, meta: {}, steps: [],
  html: '<section class="lab-step"><p>Body</p></section>', problems: [], ...over,
});
const warning = { file: 'x/lab.md', line: 7, message: 'picture "images/<a>.png" is not in the lab folder: its alt text is shown instead' };

test('a runnable lab with warnings shows a closed box above its text, escaped', () => {
  const html = labPage(lab({ warnings: [warning, { ...warning, line: 9 }] }), boot);
  assert.match(html, /<details class="lab-warnings"><summary>2 authoring warnings<\/summary>/);
  assert.doesNotMatch(html, /<details class="lab-warnings" open/);
  assert.match(html, /<code>x\/lab\.md:7<\/code> picture &quot;images\/&lt;a&gt;\.png&quot;/);
  assert.ok(html.indexOf('lab-warnings') < html.indexOf('<section class="lab-step">'), 'above the lab text');
  assert.match(html, /data-page="lab"/);
});

test('no warnings, no box; a broken lab lists its warnings under its problems', () => {
  assert.doesNotMatch(labPage(lab({ warnings: [] }), boot), /lab-warnings/);
  assert.doesNotMatch(labPage(lab({}), boot), /lab-warnings/);
  const broken = labPage(lab({ problems: [{ file: 'x/lab.md', line: 2, message: 'front matter: bad' }], warnings: [warning] }), boot);
  assert.match(broken, /data-page="broken-lab"/);
  assert.match(broken, /<summary>1 authoring warning<\/summary>/);
  assert.ok(broken.indexOf('front matter: bad') < broken.indexOf('lab-warnings'));
});
