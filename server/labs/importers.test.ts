// Each importer against its fixture (fixtures/formats, written in our own words), without Docker:
// what becomes steps, run blocks, set-up, checks, links and warnings, and the page as HTML
// (fixtures/formats-render/<id>.html; UPDATE_FIXTURES=1 rewrites them after a deliberate change).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLabs } from './load.ts';
import type { Lab } from './types.ts';
import { applyChecksSidecar } from './checks-sidecar.ts';
import { labspaceToMarkdown, UNSUPPORTED } from './labspace.ts';
import { convertKatacodaText } from './katacoda.ts';
import { parseChecks } from './checks.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const formats = path.join(here, 'fixtures', 'formats');
const renders = path.join(here, 'fixtures', 'formats-render');
const loaded = loadLabs(formats);
const lab = async (id: string): Promise<Lab> => (await loaded).labs.find((l) => l.id === id)!;
const blocks = (l: Lab) => l.steps.flatMap((s) => s.blocks.map((b) => ({ step: s.title, term: b.term, code: b.code, ...(b.interrupt ? { interrupt: true } : {}), ...(b.noNewline ? { noNewline: true } : {}), ...(b.save ? { save: b.save } : {}) })));
const warnings = (l: Lab) => (l.warnings ?? []).map((w) => `${w.file}:${w.line}: ${w.message}`);

test('every fixture is found by its own importer and none is refused', async () => {
  const { labs } = await loaded;
  assert.deepEqual(labs.map((l) => [l.id, l.meta.format]).sort(), [
    ['educates-tour', 'educates'], ['instruqt-tour', 'instruqt'], ['iximiuz-tour', 'iximiuz'], ['katacoda-tour', 'katacoda'], ['labspace-tour', 'labspace'],
  ]);
  for (const l of labs) assert.deepEqual(l.problems, [], l.id);
});

test('Katacoda: execute with T2/HOST2, interrupt and no-newline; copy; open; port links; verify, courseData/code and assets', async () => {
  const l = await lab('katacoda-tour');
  assert.equal(l.terms, 2);
  assert.deepEqual(blocks(l), [
    { step: 'Run things', term: 1, code: 'mkdir -p /root/tour/a' },
    { step: 'Run things', term: 2, code: 'tail -f /root/tour/prepared.txt' },
    { step: 'Run things', term: 2, code: 'echo stopped', interrupt: true },
    { step: 'Run things', term: 2, code: 'tour-name', noNewline: true },
    { step: 'Run things', term: 2, code: '# Ctrl-C', interrupt: true },
    { step: 'Run things', term: 1, code: 'ls' },
  ]);
  const intro = l.steps[0]!;
  assert.equal(intro.title, 'Introduction');
  assert.equal(intro.setup?.length, 4);
  assert.deepEqual(intro.setup!.map((s) => s.node), [1, 1, 1, 2]);
  assert.match(intro.setup![3]!.script, /cat > '\/root\/tour\/host2.txt' <<'LABLAB_ASSET'\nfor the second host\nLABLAB_ASSET/);
  assert.match(intro.setup![0]!.script, /echo prepared > \/root\/tour\/prepared.txt/);
  assert.match(intro.setup![1]!.script, /hello from the intro/);
  assert.match(intro.setup![2]!.script, /cat > '\/root\/tour\/notes.txt' <<'LABLAB_ASSET'\nnotes for the tour\nLABLAB_ASSET\nchmod \+r/);
  assert.match(l.steps[2]!.setup![0]!.script, /step2-ready/);
  const check = l.steps[1]!.checks[0]!;
  assert.equal(check.kind, 'command');
  assert.match((check as { run: string }).run, /test -d \/root\/tour\/a/);
  assert.match(l.html, /<pre class="copy-block"><code>docker ps<\/code>/);
  assert.match(l.html, /class="open-file" data-open="tour\/notes.txt"/);
  assert.match(l.html, /class="port-link" data-port-term="1" data-port="8080" href="#" data-port-path="\/status">the app</);
  assert.match(l.html, /data-port-term="2" data-port="9090"/);
  assert.match(l.html, /data-port-term="1" data-port="3000"/);
  assert.doesNotMatch(l.html, /\{\{|\[\[/);
  assert.deepEqual(warnings(l), ['katacoda-tour/step1/text.md:23: {{execute ctrl-seq}} "^D": only ^C can be sent by a click here; it is shown to copy', 'katacoda-tour/step1/text.md:25: {{execute sideways}}: "sideways" is not an option this server knows (T2, HOST2, interrupt, no-newline); the block runs without it']);
});

test('Katacoda text: a fenced execute block keeps its lines exactly', () => {
  const out = convertKatacodaText('```\ncat <<EOF\n  two\nEOF\n```{{execute}}', () => {});
  assert.equal(out, '```.term1\ncat <<EOF\n  two\nEOF\n```');
});

test('Labspace: shell fences run, save-as saves, named terminals, tab and file links, variables, project/ seeds the workspace', async () => {
  const l = await lab('labspace-tour');
  assert.deepEqual(blocks(l), [
    { step: 'Fences', term: 1, code: 'echo hello > greeting.txt' },
    { step: 'Fences', term: 1, code: 'cat greeting.txt' },
    { step: 'Fences', term: 1, code: 'FROM busybox\nCMD ["echo", "hi"]\n', save: 'Dockerfile' },
    { step: 'Fences', term: 2, code: 'tail -f greeting.txt' },
  ]);
  assert.equal(l.terms, 2);
  assert.ok(l.assetsDir!.endsWith(path.join('labspace-tour', 'project')));
  assert.ok(l.picturesDir!.endsWith('labspace-tour'));
  assert.match(l.html, /<button type="button" class="save-button" data-save-block="b3">Save file<\/button>/);
  assert.match(l.html, /<pre class="copy-block"><code>echo only to read/);
  assert.match(l.html, /data-port="8080" href="#" data-port-path="\/index.html">the web page</);
  assert.match(l.html, /<a href="https:\/\/example.org\/">the outside<\/a>/);
  assert.match(l.html, /class="open-file" data-open="Dockerfile"/);
  assert.match(l.html, /The web page/);
  assert.match(l.html, /<strong>Tip:<\/strong>/);
  // The variable directives are live: an input, a set button, a part shown only for one value.
  assert.deepEqual(l.variables, { greeting: 'hello' });
  assert.match(l.html, /<code>echo <span class="lab-var" data-lab-var="greeting">hello<\/span> &gt; greeting.txt<\/code>/);
  assert.match(l.html, /<span class="lab-var-prompt">How should the app greet\?<\/span> <input type="text" class="lab-var-input" data-lab-var-input="greeting" value="hello"/);
  assert.match(l.html, /<a class="lab-var-set" href="#" role="button" data-set-variables="greeting=hi">Say hi<\/a>/);
  assert.match(l.html, /<div class="lab-when" data-when-var="greeting" data-when-test="equals" data-when-value="hi" hidden>\n<p>You picked hi.<\/p>\n<\/div>/);
  assert.deepEqual(warnings(l), [
    'labspace-tour/labspace/02-directives.md:14: "unknownThing" is a directive this server does not know; it shows as text',
    'labspace-tour/labspace/labspace.yaml:9: section 3 names "03-missing.md", which is not in the folder; it is empty',
  ]);
});

test('Labspace: models:, the MCP Gateway or a GPU make the lab unsupported, with that sentence', () => {
  const files = new Map([
    ['labspace/labspace.yaml', 'title: T\nsections:\n  - title: A\n    contentPath: a.md\n'],
    ['labspace/a.md', '```bash\necho hi\n```\n'],
    ['compose.yaml', 'services:\n  app:\n    image: x\nmodels:\n  llm:\n    model: ai/some\n'],
  ]);
  const src = { files: new Set(files.keys()), read: (p: string) => files.get(p) };
  assert.equal(labspaceToMarkdown(src).unsupported, UNSUPPORTED);
  files.set('compose.yaml', 'services:\n  app:\n    image: x\n');
  assert.equal(labspaceToMarkdown({ files: new Set(files.keys()), read: (p: string) => files.get(p) }).unsupported, undefined);
});

test('Educates: execute-1|2|all, terminal:execute/interrupt/input, copy, editor and download links, params, bundles, examiner tests', async () => {
  const l = await lab('educates-tour');
  assert.deepEqual(blocks(l), [
    { step: 'Actions', term: 1, code: 'echo one' },
    { step: 'Actions', term: 2, code: 'echo two' },
    { step: 'Actions', term: 1, code: 'clear' },
    { step: 'Actions', term: 2, code: 'clear' },
    { step: 'Actions', term: 2, code: 'echo three' },
    { step: 'Actions', term: 1, code: '# stop the running command (Ctrl-C)', interrupt: true },
    { step: 'Actions', term: 1, code: 'yes', noNewline: true },
    { step: 'A page bundle', term: 1, code: 'ls exercises' },
  ]);
  assert.match(l.html, /Namespace: workshop and localhost/);
  assert.match(l.html, /<pre class="copy-block"><code>docker run NAME<\/code>/);
  assert.match(l.html, /data-open="exercises\/app.txt" href="#">Open exercises\/app.txt</);
  assert.match(l.html, /data-open="exercises\/app.txt" href="#">Download exercises\/app.txt</);
  assert.match(l.html, /src="\/labs\/educates-tour\/assets\/workshop\/content\/02-bundle\/picture.png"/);
  const check = l.steps[0]!.checks[0] as { kind: string; run: string; title: string };
  assert.equal(check.title, 'The app file exists');
  assert.match(check.run, /^set -- 'exercises\/app.txt'\ntest -f "\$1"/);
  assert.ok(warnings(l).includes('educates-tour/workshop/content/01-actions.md:57: examiner test "not-there" is not in workshop/examiner/tests/; the check is left out'));
  assert.ok(warnings(l).includes('educates-tour/workshop/content/01-actions.md:61: the action "made:up" is not one this server knows; shown as code'));
});

test('Instruqt: bash,run is click-to-run in the tab\'s host, check scripts with FAIL: reasons, setup and track scripts, service tabs', async () => {
  const l = await lab('instruqt-tour');
  assert.deepEqual(blocks(l), [
    { step: 'First challenge', term: 1, code: 'touch /root/first.txt' },
    { step: 'Second challenge', term: 2, code: 'echo second' },
  ]);
  assert.equal(l.terms, 2);
  assert.deepEqual(l.steps[0]!.setup!.map((s) => [s.node, s.script.trim()]), [[1, 'echo track >> /root/setup.log'], [1, 'echo setting up > /root/setup.log']]);
  // setup-web prepares the web host, node 2, not node 1.
  assert.deepEqual(l.steps[1]!.setup!.map((s) => [s.node, s.script.trim()]), [[2, 'echo web prepared > /root/web.log']]);
  const c = l.steps[0]!.checks[0] as { run: string; failLine?: string; node?: number };
  assert.equal(c.failLine, 'FAIL:');
  // check-shell runs on the shell host, node 1; check-web on the web host, node 2.
  assert.equal(c.node, undefined);
  assert.equal((l.steps[1]!.checks[0] as { node?: number }).node, 2);
  assert.deepEqual(warnings(l).filter((w) => /check/.test(w)), []);
  assert.match(c.run, /fail-message\(\) \{ echo "FAIL: \$\*"; exit 1; \}/);
  assert.match(l.html, /data-port-term="2" data-port="8080" href="#" data-port-path="\/health">Site</);
  assert.match(l.html, /<code class="language-bash">cat \/root\/first.txt/);
});

test('iximiuz: init tasks are set-up, tasks are checks where ::simple-task stands, needs/env, hintcheck is a live hint', async () => {
  const l = await lab('iximiuz-tour');
  assert.deepEqual(l.steps.map((s) => s.title), ['Introduction', 'Start', 'Its id']);
  assert.match(l.steps[0]!.setup![0]!.script, /mkdir -p \/root\/ix/);
  assert.deepEqual(blocks(l), [{ step: 'Start', term: 1, code: 'docker run -d --name box busybox sleep 600' }]);
  const start = l.steps[1]!.checks[0] as { title: string; run: string; hintRun?: string };
  assert.equal(start.title, 'The box runs.');
  assert.match(start.hintRun!, /A container exists but is not running/);
  assert.match(start.hintRun!, /docker_container_count_total\(\)/);
  const id = l.steps[2]!.checks[0] as { run: string };
  assert.match(id.run, /BOX_ID="\$\( \(\ndocker ps -q --filter name=box/);
  assert.match(id.run, /export MODE="strict"/);
  assert.equal((l.steps[2]!.checks[1] as { title: string }).title, 'Task never_shown is done');
  assert.match(l.html, /echo 'YOUR ANSWER' &gt; \/root\/ix\/id.txt/);
  assert.match(l.html, /<summary>Hint 1<\/summary>/);
  assert.deepEqual(warnings(l), ['iximiuz-tour/index.md:73: ::fancy-widget is a component this server does not know; its text is shown as is']);
});

test('rendered pages match fixtures/formats-render', async () => {
  const { labs } = await loaded;
  for (const l of labs) {
    const file = path.join(renders, `${l.id}.html`);
    if (process.env.UPDATE_FIXTURES) fs.writeFileSync(file, l.html);
    assert.equal(l.html, fs.readFileSync(file, 'utf8'), `${l.id}: rendered page changed (UPDATE_FIXTURES=1 rewrites it)`);
  }
});

test('checks.yaml adds our checks to steps by title or number; mistakes are reported at their line', () => {
  const md = '---\ntitle: T\n---\n\n## One\n\ntext\n\n```bash\n## not a step\n```\n\n## Two Words\n\nmore\n';
  const r = applyChecksSidecar(md, '"two   words":\n  - file: a.txt\n1:\n  - image: x\n    size: < 10 MB\n');
  assert.deepEqual([r.problems, r.warnings], [[], []]);
  assert.match(r.markdown, /## One\n\ntext\n\n```bash\n## not a step\n```\n\n\n```check\n- image: x\n  size: < 10 MB\n```\n\n## Two Words\n\nmore\n\n\n```check\n- file: a.txt\n```\n/);
  const bad = applyChecksSidecar(md, 'One:\n  - image: x\n    sise: 3\nNine:\n  - file: b\n');
  assert.deepEqual(bad.problems.map((p) => [p.file, p.line]), [['checks.yaml', 3]]);
  assert.deepEqual(bad.warnings.map((p) => [p.line, p.message]), [[4, '"Nine" is not a step of this lab (its steps: 1. One; 2. Two Words); these checks are left out']]);
  assert.equal(bad.markdown, md);
  assert.equal(applyChecksSidecar(md, 'a: [\n').problems[0]!.file, 'checks.yaml');
});

test('a command check may name its reason line (fail_line) and a live hint (hint_run)', () => {
  const r = parseChecks('- run: ./check\n  fail_line: "FAIL:"\n  hint_run: echo try again\n', 1);
  assert.deepEqual(r.problems, []);
  assert.deepEqual({ ...r.checks[0], id: undefined, line: undefined }, { kind: 'command', run: './check', exitCode: 0, failLine: 'FAIL:', hintRun: 'echo try again', id: undefined, line: undefined, title: r.checks[0]!.title });
  assert.equal(parseChecks('- run: x\n  fail_line: 3\n', 1).problems.length, 1);
});

test('a command check may name the node that runs it (node: 2 or node2); "node:" alone is still a swarm node check', () => {
  const side = applyChecksSidecar('---\ntitle: T\nterms: 2\n---\n\n## One\n', '1:\n  - run: test -f /root/w\n    node: 2\n');
  assert.deepEqual([side.problems, side.warnings], [[], []]);
  assert.match(side.markdown, /- run: test -f \/root\/w\n {2}node: 2\n/);
  const r = parseChecks('- run: ./check\n  node: 2\n- run: ./other\n  node: node3\n- node: self\n  role: manager\n', 1);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.checks.map((c) => [c.kind, (c as { node?: unknown }).node]), [['command', 2], ['command', 3], ['node.role', 'self']]);
  assert.deepEqual(parseChecks('- run: x\n  node: 0\n', 1).problems, [{ line: 2, message: 'bad node "0": write the node (terminal) that runs the command, 1 to 6' }]);
});
