// Inline HTML in labs: fixtures/html/<name>.md in; <name>.html and <name>.warnings.txt out,
// rendered as a folder lab whose only picture is images/present.png. Regenerate after an intended
// change with UPDATE_FIXTURES=1, then read the diff: the fixtures are the spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatProblem, formatWarning, renderMarkdown } from './render.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.join(here, 'fixtures', 'html');
const update = process.env.UPDATE_FIXTURES === '1';
const files = new Set(['images/present.png']);

function render(name: string, source = fs.readFileSync(path.join(dir, name), 'utf8')) {
  return renderMarkdown(source, { file: name, assetExists: (p) => files.has(p), assetBase: '/labs/fixture/assets/' });
}

function expectFile(file: string, actual: string): void {
  const p = path.join(dir, file);
  if (update || !fs.existsSync(p)) {
    fs.writeFileSync(p, actual);
    if (!update) assert.fail(`${file} did not exist and was written: check it, then rerun`);
    return;
  }
  assert.equal(actual, fs.readFileSync(p, 'utf8'), `${file} differs (UPDATE_FIXTURES=1 to accept)`);
}

const names = fs.readdirSync(dir).filter((f) => f.endsWith('.md')).sort();

for (const name of names) {
  test(`html fixture ${name}`, () => {
    const r = render(name);
    const base = name.replace(/\.md$/, '');
    expectFile(`${base}.html`, r.html);
    expectFile(`${base}.warnings.txt`, [...r.problems.map(formatProblem), ...r.warnings.map(formatWarning)].map((l) => `${l}\n`).join(''));
  });
}

// ---- properties that must hold whatever the fixtures say -------------------------------------

test('nothing executable survives: no script, style, frames, handlers, style attributes or script URLs', () => {
  for (const name of names) {
    const { html } = render(name);
    assert.doesNotMatch(html, /<(script|style|iframe|object|embed|form|input|font)\b/i, name);
    assert.doesNotMatch(html, /<button(?! type="button" class="(copy|check)-button")/i, `${name}: only our own buttons`);
    assert.doesNotMatch(html, /<[a-z]+[^>]*\s(on[a-z]+|style|srcdoc|formaction)=/i, name);
    assert.doesNotMatch(html, /(href|src)="\s*(javascript|vbscript|data):/i, name);
    assert.doesNotMatch(html, /href="\/\//i, `${name}: no protocol-relative links`);
  }
});

test('an author cannot close or forge the markup around the lab text', () => {
  for (const name of names) {
    const { html } = render(name);
    const count = (re: RegExp) => (html.match(re) ?? []).length;
    assert.equal(count(/<section\b/g), count(/<\/section>/g), `${name}: sections balanced`);
    assert.equal(count(/<div\b/g), count(/<\/div>/g), `${name}: divs balanced`);
    assert.equal(count(/<pre\b/g), count(/<\/pre>/g), `${name}: pre balanced`);
    // Only the renderer makes run blocks and page controls.
    assert.doesNotMatch(html, /class="(?!lab-missing-image|lab-details|run-block|copy-button|check|port-link|lab-step|quiz)[^"]*"/, name);
  }
  const forged = render('forged.md', '## x\n\n<pre class="run-block" data-term="1" data-block-id="b1">rm -rf /</pre> <a class="port-link" data-port="22" href="#">x</a>\n');
  assert.doesNotMatch(forged.html, /class="run-block"|data-block-id|port-link|data-port/);
  assert.equal(forged.steps.flatMap((s) => s.blocks).length, 0);
});

test('anchors and fragment links move to their own namespace together', () => {
  const { html, steps } = render('anchors.md');
  assert.equal(steps[0]!.title, 'Part 1: what a swarm is');
  assert.match(html, /<h2><a name="anchor-basics"><\/a>Part 1/);
  assert.match(html, /<a href="#anchor-basics">the basics<\/a>/);
  assert.match(html, /<a href="#anchor-basics">the same with HTML<\/a>/);
  assert.doesNotMatch(html, /id="boot"|name="lab-text"/);
});

test('pictures: lab-local ones are served from the lab, missing ones become their alt text', () => {
  const r = render('pictures.md');
  assert.equal((r.html.match(/<img src="\/labs\/fixture\/assets\/images\/present\.png"/g) ?? []).length, 3);
  assert.match(r.html, /<span class="lab-missing-image">A diagram that was never committed<\/span>/);
  assert.match(r.html, /<span class="lab-missing-image">gone<\/span>/);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(
    r.warnings.filter((w) => w.message.startsWith('picture')).map((w) => w.line),
    [7, 9, 9, 11, 11],
  );
  // Without a lab folder (a bare preview) nothing is checked and paths stay as written.
  const bare = renderMarkdown('<img src="images/x.png" alt="x">\n', { file: 'bare.md' });
  assert.match(bare.html, /<img src="images\/x\.png" alt="x" \/>/);
  assert.deepEqual(bare.warnings, []);
});

test('an iframe becomes a plain link to its page (http and https only)', () => {
  const { html } = render('embeds.md');
  assert.match(html, /<a href="https:\/\/www\.youtube\.com\/embed\/abc123" target="_blank" rel="noopener noreferrer">Swarm in five minutes<\/a>/);
  assert.match(html, /<a href="https:\/\/example\.com\/page" target="_blank" rel="noopener noreferrer">https:\/\/example\.com\/page<\/a>/);
});
