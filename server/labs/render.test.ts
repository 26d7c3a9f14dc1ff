// Fixture tests: fixtures/render/<name>.md in; <name>.html, <name>.problems.txt (errors, and
// warnings as "file:line: warning: …") and <name>.steps.json out. Regenerate after an intended change with UPDATE_FIXTURES=1, then
// read the diff: the fixtures are the spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatProblem, formatWarning, renderMarkdown } from './render.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.join(here, 'fixtures', 'render');
const update = process.env.UPDATE_FIXTURES === '1';

function render(name: string) {
  return renderMarkdown(fs.readFileSync(path.join(dir, name), 'utf8'), { file: name });
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

for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.md')).sort()) {
  test(`fixture ${name}`, () => {
    const r = render(name);
    const base = name.replace(/\.md$/, '');
    expectFile(`${base}.html`, r.html);
    const notes = [...r.problems.map((p) => ({ line: p.line, text: formatProblem(p) })), ...r.warnings.map((p) => ({ line: p.line, text: formatWarning(p) }))];
    notes.sort((a, b) => a.line - b.line);
    expectFile(`${base}.problems.txt`, notes.map((n) => `${n.text}\n`).join(''));
    expectFile(`${base}.steps.json`, `${JSON.stringify({ title: r.title, terms: r.terms, steps: r.steps }, null, 2)}\n`);
  });
}

// ---- properties that must hold whatever the fixtures say -------------------------------------

const SEED = path.join(here, 'fixtures', 'labs-good', 'pwd-multi-stage.md');

test('the Play-With-Docker seed renders with every .term1 block clickable', () => {
  const src = fs.readFileSync(SEED, 'utf8');
  const fences = src.split('\n').filter((l) => l.trim() === '```.term1').length;
  assert.equal(fences, 13);
  const r = renderMarkdown(src, { file: 'pwd-multi-stage.md' });
  assert.deepEqual(r.problems, []);
  assert.equal(r.title, 'Multi-stage builds');
  const blocks = r.steps.flatMap((s) => s.blocks);
  assert.equal(blocks.length, fences);
  assert.equal((r.html.match(/<pre class="run-block" data-term="1" data-block-id="b\d+" data-step-id="s\d+"/g) ?? []).length, fences);
  assert.equal((r.html.match(/class="copy-button"/g) ?? []).length, fences);
  // The quoted multi-line echo survives exactly, ready to type into a shell.
  const tee = blocks.find((b) => b.code.endsWith("' | tee app.go"));
  assert.equal(tee?.code, `echo 'package main\n\nimport "fmt"\n\nfunc main() {\n    fmt.Println("Hello world!")\n}\n' | tee app.go`);
});

test('run block code is exactly what the shell needs', () => {
  const r = render('term-fences.md');
  const [heredoc, tee] = r.steps[0]!.blocks;
  assert.equal(heredoc!.code, `cat > main.go <<'EOF'\npackage main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hi")\n}\nEOF`);
  assert.equal(tee!.code, "echo '\nFROM scratch\nCOPY app /app\n' | tee Dockerfile");
  assert.deepEqual(r.steps.flatMap((s) => s.blocks.map((b) => b.term)), [1, 1, 2, 1, 2, 1, 1, 1]);
  assert.deepEqual(r.problems, []);
});

test('CRLF input renders like LF input, with the same line numbers', () => {
  const crlf = fs.readFileSync(path.join(dir, 'crlf.md'), 'utf8');
  assert.ok(crlf.includes('\r\n'), 'the fixture must keep its CRLF endings (see fixtures/.gitattributes)');
  const a = renderMarkdown(crlf, { file: 'x.md' });
  const b = renderMarkdown(crlf.replace(/\r\n/g, '\n'), { file: 'x.md' });
  assert.equal(a.html, b.html);
  assert.deepEqual(a.problems, b.problems);
  assert.equal(a.steps[0]!.blocks[0]!.code, "cat > a.txt <<'EOF'\nline one\nline two\nEOF");
  assert.ok(!a.html.includes('\r'));
  assert.deepEqual(a.problems.map((p) => p.line), [16, 19]);
});

test('no lab can inject script, event handlers or dangerous URLs', () => {
  for (const name of ['html.md', 'links.md', 'attr-lists.md', 'quiz.md', 'checks.md']) {
    const { html } = render(name);
    assert.doesNotMatch(html, /<script/i, name);
    assert.doesNotMatch(html, /<iframe/i, name);
    assert.doesNotMatch(html, /<img[^>]*\sonerror/i, name);
    assert.doesNotMatch(html, /<[a-z]+[^>]*\son[a-z]+=/i, name);
    assert.doesNotMatch(html, /(href|src)="\s*(javascript|vbscript|data):/i, name);
  }
  const links = render('links.md').html;
  assert.match(links, /\[js\]\(javascript:alert\(1\)\)/, 'a javascript: link stays visible as text');
  assert.match(links, /<a href="https:\/\/docs\.docker\.com\/">fine<\/a>/);
});

test('a lab without front matter takes its title from the first heading', () => {
  const r = render('no-front-matter.md');
  assert.equal(r.title, 'Only first-level headings');
  assert.equal(r.terms, 1);
  assert.deepEqual(r.steps.map((s) => s.title), ['First step', 'Second step']);
  assert.equal(renderMarkdown('just text\n', { file: 'plain.md' }).title, 'plain');
});

test('check ids are stable per step and every check gets a title', () => {
  const r = render('checks.md');
  const ids = r.steps.flatMap((s) => s.checks.map((c) => c.id));
  assert.equal(ids[0], 's1.c1');
  assert.equal(new Set(ids).size, ids.length);
  for (const c of r.steps.flatMap((s) => s.checks)) assert.ok(c.title && c.title.length > 0, c.id);
  const kinds = new Set(r.steps.flatMap((s) => s.checks.map((c) => c.kind)));
  assert.equal(kinds.size, 14, `all 14 kinds are expressible, got ${[...kinds].join(', ')}`);
});
