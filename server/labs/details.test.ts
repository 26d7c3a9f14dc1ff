import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMarkdown } from './render.ts';

const lab = (body: string) => renderMarkdown(`---\ntitle: T\n---\n## Step\n\n${body}\n`);

test('<details><summary> renders folded, its body stays Markdown, and its headings start no step', () => {
  const r = lab('<details>\n<summary>The *answer*</summary>\n\n## Not a step\n\n```.term1\necho hi\n```\n\n</details>\n\nAfter.');
  assert.match(r.html, /<details class="lab-details">\n<summary>The <em>answer<\/em><\/summary>\n<h2>Not a step<\/h2>/);
  assert.match(r.html, /<pre class="run-block" data-term="1"[^>]*><code>echo hi<\/code>/);
  assert.equal(r.steps.length, 1);
  assert.deepEqual(r.steps[0]!.blocks.map((b) => b.code), ['echo hi']);
  assert.match(r.html, /<\/details>\n<p>After.<\/p>/);
});

test('an unclosed <details> is not a folded block, and a script never survives', () => {
  const r = lab('<details>\n<script>alert(1)</script>');
  assert.doesNotMatch(r.html, /lab-details|<script/);
});

test('{:data-open} links ask the editor to open a file; paths outside /root are problems', () => {
  const ok = lab('[open Dockerfile](#){:data-open="Dockerfile"} and [x](#){:data-open="app/main.go"}');
  assert.match(ok.html, /<a class="open-file" data-open="Dockerfile" href="#">open Dockerfile<\/a>/);
  assert.match(ok.html, /data-open="app\/main.go"/);
  assert.deepEqual(ok.problems, []);
  for (const bad of ['../etc/passwd', '/etc/passwd', 'a/../../b']) {
    const r = lab(`[x](#){:data-open="${bad}"}`);
    assert.doesNotMatch(r.html, /open-file/);
    assert.match(r.problems[0]!.message, /must be a path under \/root/);
  }
});

test('```.copy is a copy-only block; ```.term1 interrupt runs with Ctrl-C first', () => {
  const r = lab('```.copy\nsleep 9\n```\n\n```.term1 interrupt\necho go\n```');
  assert.match(r.html, /<pre class="copy-block"><code>sleep 9<\/code><\/pre><button type="button" class="copy-button"/);
  assert.match(r.html, /data-interrupt="1"[^>]*><code>echo go/);
  assert.deepEqual(r.steps[0]!.blocks.map((b) => b.code), ['echo go']);
});
