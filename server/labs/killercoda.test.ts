import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killercodaToMarkdown } from './killercoda.ts';
import { loadLabs } from './load.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'killercoda');

test('a Killercoda scenario folder loads as a lab: steps, run blocks, verify.sh as a command check', async () => {
  const { labs, problems } = await loadLabs(fixtures);
  assert.deepEqual(problems, []);
  const lab = labs.find((l) => l.id === 'hello-scenario')!;
  assert.equal(lab.title, 'Hello from a scenario');
  assert.deepEqual(lab.steps.map((s) => s.title), ['Make a file', 'Finished']);
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
