import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertText, killercodaToMarkdown } from './killercoda.ts';
import { loadLabs } from './load.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'killercoda');

test('a Killercoda scenario folder loads as a lab: steps, run blocks, verify.sh as a command check', async () => {
  const { labs, problems } = await loadLabs(fixtures);
  assert.deepEqual(problems, []);
  const lab = labs.find((l) => l.id === 'hello-scenario')!;
  assert.equal(lab.title, 'Hello from a scenario');
  assert.deepEqual(lab.steps.map((s) => s.title), ['Make a file', 'Stop and serve', 'Finished']);
  assert.deepEqual(lab.steps[0]!.blocks.map((b) => [b.term, b.code]), [[1, 'touch /root/hello.txt'], [1, 'ls -l /root']]);
  const check = lab.steps[0]!.checks[0]!;
  assert.equal(check.kind, 'command');
  assert.match((check as { run: string }).run, /test -f \/root\/hello\.txt/);
  assert.match(lab.html, /data-term="1"/);
  assert.doesNotMatch(lab.html, /\{\{(exec|copy)\}\}/);
  assert.ok(lab.assetsDir?.endsWith('hello-scenario'));
});

test('bad JSON and missing step files are problems, not crashes', () => {
  assert.match(killercodaToMarkdown('{nope', () => undefined).problems[0]!, /not valid JSON/);
  const r = killercodaToMarkdown(JSON.stringify({ title: 'T', details: { steps: [{ title: 'A', text: 'missing.md' }] } }), () => undefined);
  assert.deepEqual(r.problems, ['details.steps[0].text refers to "missing.md", which is not in the scenario folder']);
  assert.match(r.markdown, /^## A$/m);
});

test('Killercoda actions: {{copy}} is copy-only, {{exec interrupt}} sends Ctrl-C first, TRAFFIC_HOST links, folded <details>', async () => {
  const { labs } = await loadLabs(fixtures);
  const lab = labs.find((l) => l.id === 'hello-scenario')!;
  assert.deepEqual(lab.problems, []);
  const step = lab.steps[1]!;
  assert.deepEqual(step.blocks.map((b) => b.code), ['echo stopped > /root/stopped.txt', 'cat /root/stopped.txt']);
  assert.match(lab.html, /<pre class="copy-block"><code>sleep 600<\/code><\/pre>/);
  assert.match(lab.html, /<pre class="copy-block"><code>python3 -m http.server 8080 --directory \/root<\/code>/);
  assert.match(lab.html, /data-interrupt="1" title="Click to run in terminal 1"><code>echo stopped/);
  assert.doesNotMatch(lab.html, /data-interrupt="1"[^>]*><code>cat/);
  assert.match(lab.html, /<a class="port-link" data-port-term="1" data-port="8080" href="#" data-port-path="\/stopped.txt">the served folder<\/a>/);
  assert.match(lab.html, /<a class="port-link" data-port-term="1" data-port="8080" href="#">port 8080 on node1<\/a>/);
  assert.match(lab.html, /<details class="lab-details">\n<summary>Solution<\/summary>\n<div class="run-block-wrap"><pre class="run-block"[^>]*><code>cat \/root\/stopped.txt/);
  assert.doesNotMatch(lab.html, /<details[^>]* open/);
  assert.doesNotMatch(lab.html, /\{\{|TRAFFIC_HOST|&lt;details/);
});

test('TRAFFIC_HOST2_… asks for a second terminal', () => {
  assert.match(convertText('see {{TRAFFIC_HOST2_80}}'), /\[port 80 on node2\]\(\/\)\{:data-term=".term2"\}\{:data-port="80"\}/);
  const r = killercodaToMarkdown(JSON.stringify({ title: 'T', details: { steps: [{ title: 'A', text: 'a.md' }] } }), () => 'open {{TRAFFIC_HOST2_8080}}');
  assert.match(r.markdown, /^terms: 2$/m);
});
