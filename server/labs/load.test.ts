import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHECK_KINDS } from '../checks/types.ts';
import { formatProblem, formatWarning, loadLabs, slug } from './load.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const repoLabs = path.join(here, '..', '..', 'labs');

test('loads folder labs and single-file labs, in order, skipping non-labs', async () => {
  const { labs, problems } = await loadLabs(path.join(fixtures, 'labs-good'));
  assert.deepEqual(problems, []);
  assert.deepEqual(labs.map((l) => l.id), ['01-folder-lab', 'pwd-multi-stage', 'zed-lab']);
  const [folder, pwd, zed] = labs;
  assert.equal(folder!.title, 'A folder lab');
  assert.equal(folder!.assetsDir, path.join(fixtures, 'labs-good', '01-folder-lab'));
  assert.equal(folder!.file, path.join(fixtures, 'labs-good', '01-folder-lab', 'lab.md'));
  assert.deepEqual(folder!.images, ['busybox']);
  assert.equal(folder!.duration, '5 min');
  assert.equal(folder!.steps[0]!.checks[0]!.id, 's1.c1');
  assert.equal(pwd!.assetsDir, undefined);
  assert.equal(pwd!.meta.image, 'franela/dind:overlay2-dev');
  assert.equal(pwd!.steps.flatMap((s) => s.blocks).length, 13);
  assert.equal(zed!.title, 'Zed lab');
});

test('a broken lab is still returned, with file:line problems; the good one is clean', async () => {
  const { labs, problems } = await loadLabs(path.join(fixtures, 'labs-broken'));
  const byId = new Map(labs.map((l) => [l.id, l]));
  assert.deepEqual(byId.get('good')!.problems, []);
  assert.ok(byId.get('good')!.html.includes('class="run-block"'));
  assert.equal(problems.length, labs.reduce((n, l) => n + l.problems.length, 0));
  const lines = problems.map(formatProblem);
  const expect = [
    /^bad-yaml\/lab\.md:3: front matter: /,
    /^missing-asset\/lab\.md:4: asset "main\.go" is not in the lab folder$/,
    /^term-errors\.md:3: \.term0 is not a terminal/,
    /^term-errors\.md:7: \.term7 is not a terminal/,
    /^terms-nine\.md:3: terms must be a whole number from 0 to 6, not 9$/,
    /^unknown-check\/lab\.md:9: unknown check type/,
  ];
  for (const re of expect) assert.ok(lines.some((l) => re.test(l)), `${re} in\n${lines.join('\n')}`);
  // Authoring nits are warnings beside the errors, not errors.
  const warnings = labs.flatMap((l) => l.warnings ?? []).map(formatWarning);
  for (const re of [
    /^missing-asset\/lab\.md:9: warning: picture "images\/missing\.png" is not in the lab folder/,
    /^term-errors\.md:11: warning: code block opened here with ``` is never closed/,
  ]) assert.ok(warnings.some((l) => re.test(l)), `${re} in\n${warnings.join('\n')}`);
  assert.ok(!lines.some((l) => l.includes('images/missing.png') || l.includes('never closed')));
  // The Dockerfile asset exists, so it is not reported.
  assert.ok(!lines.some((l) => l.includes('"Dockerfile"')));
  // Valid checks next to an invalid one still load, so the page can show the lab as broken but readable.
  assert.equal(byId.get('unknown-check')!.steps[0]!.checks.length, 1);
});

test('an unreadable labs folder throws (that is configuration, not a broken lab)', async () => {
  await assert.rejects(loadLabs(path.join(fixtures, 'no-such-folder')));
});

test('slugs are URL-safe', () => {
  assert.equal(slug('01 Normal Build'), '01-normal-build');
  assert.equal(slug('Café: ünïcode!'), 'cafe-unicode');
  assert.equal(slug('***'), 'lab');
});

test('the labs in labs/ load without problems, and every step is checked', async () => {
  const { labs, problems } = await loadLabs(repoLabs);
  assert.deepEqual(problems.map(formatProblem), []);
  assert.deepEqual(labs.flatMap((l) => l.warnings ?? []).map(formatWarning), []);
  assert.deepEqual(labs.slice(0, 4).map((l) => l.id), ['01-normal-build', '02-builder-pattern', '03-multi-stage', '04-build-target']);
  const kinds = new Set<string>();
  for (const lab of labs) {
    // Every lab preloads what it runs (the Swarm lab needs only busybox, not golang).
    assert.ok(lab.images.some((i) => i !== 'scratch'), `${lab.id} preloads its images`);
    assert.ok(lab.steps.length >= 2, lab.id);
    for (const step of lab.steps) {
      assert.ok(step.checks.length > 0, `${lab.id} step "${step.title}" has checks`);
      step.checks.forEach((c) => kinds.add(c.kind));
    }
  }
  const multi = labs.find((l) => l.id === '03-multi-stage')!;
  const first = multi.steps[0]!.blocks[0]!;
  assert.match(first.code, /^cat > main\.go <<'EOF'\n[\s\S]*\nEOF$/);
  const img = multi.steps[1]!.checks;
  assert.deepEqual(img.map((c) => c.kind), ['image.exists', 'image.size', 'image.base', 'image.config']);
  // The labs use most of the check language; the fixtures cover the rest.
  assert.ok(kinds.size >= 12, `${kinds.size} of ${CHECK_KINDS.length} kinds used: ${[...kinds].join(', ')}`);
});
