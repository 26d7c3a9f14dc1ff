// Play-With-Docker posts with authoring nits load leniently: each fixture in fixtures/pwd-nits is
// a small reproduction, in our own words, of a real post that used to be refused as broken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatProblem, formatWarning, loadLabs } from './load.ts';
import type { Lab } from './types.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.join(here, 'fixtures', 'pwd-nits');

/** Clickable blocks the author wrote: every ```.termN fence of the source. */
function termFences(file: string): number {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => /^\s*```\s*\{?:?\s*\.term\d/.test(l)).length;
}

const expected: Record<string, RegExp[]> = {
  'liquid-images': [
    /^liquid-images\/lab\.md:14: warning: \{\{ site\.baseurl \}\} \(2 times\) was read as this lab's folder/,
    /^liquid-images\/lab\.md:33: warning: \{% raw %\} … \{% endraw %\} \(2 times\) was removed/,
  ],
  'missing-picture': [/^missing-picture\/lab\.md:14: warning: picture "images\/port-forwarding\.png" is not in the lab folder/],
  'open-fence': [/^open-fence\.md:19: warning: code block opened here with ``` is never closed, so it runs to the end of the file/],
  'two-right-answers': [/^two-right-answers\.md:17: warning: a \( \) quiz has one right answer, but 2 are marked \(x\): any of them is accepted/],
  'inline-html': [
    /^inline-html\/lab\.md:10: warning: \{\{ site\.baseurl \}\} \(once\)/,
    /^inline-html\/lab\.md:21: warning: HTML <script> is not allowed in a lab and was removed$/,
    /^inline-html\/lab\.md:23: warning: HTML attribute onmouseover is not allowed in a lab and was removed$/,
  ],
};

async function load(): Promise<Map<string, Lab>> {
  const { labs } = await loadLabs(dir);
  return new Map(labs.map((l) => [l.id, l]));
}

test('every Play-With-Docker nit fixture loads, runnable, with its warnings and every block clickable', async () => {
  const labs = await load();
  assert.deepEqual([...labs.keys()].sort(), Object.keys(expected).sort());
  for (const [id, res] of Object.entries(expected)) {
    const lab = labs.get(id)!;
    assert.deepEqual(lab.problems.map(formatProblem), [], `${id} is not broken`);
    const warnings = (lab.warnings ?? []).map(formatWarning);
    assert.equal(warnings.length, res.length, `${id} warnings:\n${warnings.join('\n')}`);
    for (const re of res) assert.ok(warnings.some((w) => re.test(w)), `${id}: ${re} in\n${warnings.join('\n')}`);
    const blocks = lab.steps.flatMap((s) => s.blocks);
    const fences = termFences(lab.file);
    assert.ok(fences > 0, id);
    assert.equal(blocks.length, fences, `${id}: every .termN fence is a run block`);
    assert.equal((lab.html.match(/<pre class="run-block"/g) ?? []).length, fences, `${id}: every run block is on the page`);
  }
});

test('Liquid: site.baseurl pictures are served from the lab folder, raw blocks keep their Go templates', async () => {
  const lab = (await load()).get('liquid-images')!;
  assert.equal((lab.html.match(/<img src="\/labs\/liquid-images\/assets\/images\/two-nodes\.png"/g) ?? []).length, 2);
  assert.doesNotMatch(lab.html, /\{%|site\.baseurl/);
  const codes = lab.steps.flatMap((s) => s.blocks.map((b) => b.code));
  assert.ok(codes.includes("docker ps --format '{{ .Names }}'"), codes.join('\n'));
  assert.ok(codes.includes("docker inspect --format '{{ .State.Status }}' right"), codes.join('\n'));
  assert.deepEqual(lab.steps.flatMap((s) => s.blocks.map((b) => b.term)), [1, 2, 1, 2]);
});

test('a missing picture shows its alt text', async () => {
  const lab = (await load()).get('missing-picture')!;
  assert.match(lab.html, /<span class="lab-missing-image">Host port 8080 forwarded to container port 80<\/span>/);
  assert.doesNotMatch(lab.html, /<img/);
});

test('a fence open at the end of the file is closed there and stays clickable', async () => {
  const lab = (await load()).get('open-fence')!;
  const last = lab.steps.at(-1)!.blocks.at(-1)!;
  assert.equal(last.code, 'docker rm -f $(docker ps -aq)');
});

test('a ( ) quiz with two right answers renders as single choice with both marked right', async () => {
  const lab = (await load()).get('two-right-answers')!;
  assert.match(lab.html, /<form class="quiz" data-quiz-id="q1" data-quiz-type="single">/);
  assert.equal((lab.html.match(/type="radio"[^>]*data-correct="true"/g) ?? []).length, 2);
});

test('inline HTML: anchors, a picture, an iframe as a link, formatting kept; script and handler gone', async () => {
  const lab = (await load()).get('inline-html')!;
  const { html } = lab;
  assert.match(html, /<img src="\/labs\/inline-html\/assets\/images\/whale\.png" alt="A small whale" width="48" height="48" \/>/);
  assert.match(html, /<h2><a name="anchor-start"><\/a>Section 1: <span>what a service is<\/span><\/h2>/);
  assert.match(html, /<a href="#anchor-start">the first section<\/a>/);
  assert.match(html, /<a href="#anchor-start">straight to it<\/a>/);
  assert.match(html, /running<sup>1<\/sup>/);
  assert.match(html, /<strong>declarative<\/strong>/);
  assert.match(html, /<a href="https:\/\/www\.youtube\.com\/embed\/swarm-intro" target="_blank" rel="noopener noreferrer">A short talk about services<\/a>/);
  assert.match(html, /<span>This sentence stays, its handler goes\.<\/span>/);
  assert.doesNotMatch(html, /<script|owned|onmouseover|style=|<iframe/);
  assert.deepEqual(lab.steps.map((s) => s.title), ['Section 1: what a service is', 'Section 2: scale it']);
});

test('--strict: labs:check exits 1 on these warnings, 0 without it', async () => {
  const { spawnSync } = await import('node:child_process');
  const root = path.resolve(here, '..', '..');
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'server/cli/labs-check.ts', ...args], { cwd: root, encoding: 'utf8' });
  const lenient = run('server/labs/fixtures/pwd-nits');
  assert.equal(lenient.status, 0, lenient.stdout + lenient.stderr);
  const lines = lenient.stdout.trim().split('\n');
  assert.match(lines.at(-1)!, /^5 labs OK in server\/labs\/fixtures\/pwd-nits: \d+ steps, 0 checks$/);
  const warnings = lines.filter((l) => l.includes(': warning: '));
  assert.equal(warnings.length, Object.values(expected).flat().length);
  for (const l of warnings) assert.match(l, /^server\/labs\/fixtures\/pwd-nits\/[\w./-]+\.md:\d+: warning: \S/);
  const strict = run('--strict', 'server/labs/fixtures/pwd-nits');
  assert.equal(strict.status, 1, strict.stdout + strict.stderr);
  assert.match(strict.stdout, /\n\d+ warnings in 5 of 5 labs \(server\/labs\/fixtures\/pwd-nits\); --strict counts them as problems\n$/);
});
