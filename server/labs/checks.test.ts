import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTitle, formatBytes, parseChecks, parseRange, parseSize } from './checks.ts';

test('sizes: units are required, MB is 1000-based like docker images', () => {
  assert.equal(parseSize('20MB'), 20_000_000);
  assert.equal(parseSize('20 mb'), 20_000_000);
  assert.equal(parseSize('1.5 GiB'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('512kB'), 512_000);
  assert.equal(parseSize('20'), null);
  assert.equal(parseSize('20 MBB'), null);
  assert.deepEqual(parseRange('< 20 MB', parseSize), { max: 19_999_999 });
  assert.deepEqual(parseRange('<= 20MB', parseSize), { max: 20_000_000 });
  assert.deepEqual(parseRange('at least 500 MB', parseSize), { min: 500_000_000 });
  assert.deepEqual(parseRange('between 1MB and 20MB', parseSize), { min: 1_000_000, max: 20_000_000 });
  assert.deepEqual(parseRange('1MB..20MB', parseSize), { min: 1_000_000, max: 20_000_000 });
  assert.ok('error' in parseRange('20MB..1MB', parseSize));
  assert.ok('error' in parseRange('20MB', parseSize));
  assert.equal(formatBytes(19_999_999), '20 MB');
  assert.equal(formatBytes(500_000_001), '500 MB');
  assert.equal(formatBytes(1_200_000_000), '1.2 GB');
});

test('line numbers point at the key that is wrong, offset by the fence', () => {
  const src = '- image: app:v1\n  size: < 20 MB\n\n- image: app:v1\n  size: 20 parsecs\n';
  const r = parseChecks(src, 10);
  assert.deepEqual(r.problems, [{ line: 14, message: 'bad size "20 parsecs": write a number with a unit after <, <=, >, >=, under, over, at most or at least, or a range such as 1MB..20MB' }]);
  assert.equal(r.checks.length, 1);
  assert.equal(r.checks[0]!.line, 11);
});

test('a YAML slip is reported at its line, with a hint for an unquoted ">"', () => {
  const r = parseChecks('- image: app:v1\n  size: > 500MB\n', 5);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0]!.line, 6);
  assert.match(r.problems[0]!.message, /must be quoted/);
});

test('one item with several assertions gives one check per assertion, in written order', () => {
  const r = parseChecks('image: app:v1\nentrypoint: ./app\nsize: < 5MB\nfrom: scratch\nhint: rebuild it\n', 1);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.checks.map((c) => c.kind), ['image.config', 'image.size', 'image.base']);
  assert.ok(r.checks.every((c) => c.hint === 'rebuild it'));
  const bad = parseChecks('image: app:v1\nsize: < 5MB\nfrom: scratch\ntitle: Small\n', 1);
  assert.match(bad.problems[0]!.message, /"title" names one check/);
});

test('keys are forgiving about case and separators; type must agree with the keys', () => {
  const r = parseChecks('- run: "false"\n  exitCode: 1\n- run: "true"\n  exit-code: any\n', 1);
  assert.deepEqual(r.problems, []);
  assert.equal((r.checks[0] as { exitCode?: number }).exitCode, 1);
  assert.equal((r.checks[1] as { exitCode?: number }).exitCode, undefined);
  const t = parseChecks('type: image.size\nimage: app:v1\nfrom: scratch\n', 1);
  assert.match(t.problems[0]!.message, /does not match the keys/);
});

test('empty blocks, lists of scalars and subjects without a name are author errors', () => {
  assert.match(parseChecks('', 3).problems[0]!.message, /empty check block/);
  assert.match(parseChecks('- just text\n', 3).problems[0]!.message, /each check is a mapping/);
  assert.match(parseChecks('container:\n', 3).problems[0]!.message, /missing container name/);
  assert.match(parseChecks('file: x\nmatches: "/(/i"\n', 3).problems[0]!.message, /bad regular expression/);
  assert.deepEqual(parseChecks('file: x\nmatches: "/^from/i"\n', 3).problems, []);
});

test('matches: "/re/flags" (flags i, m, s, u) is validated as that regex; anything else as written', () => {
  const ok = (src: string) => parseChecks(src, 3);
  // The regex inside the slashes is what is compiled, with the flags given.
  assert.match(ok('file: x\nmatches: "/(/i"\n').problems[0]!.message, /^bad regular expression "\/\(\/i": Unterminated group$/);
  assert.match(ok('run: ls\noutput_matches: "/[a-/s"\n').problems[0]!.message, /^bad regular expression "\/\[a-\/s": Unterminated character class$/);
  const [c] = ok('file: Dockerfile\nmatches: "/^from golang/i"\n').checks;
  assert.deepEqual({ kind: c!.kind, pattern: (c as { pattern: string }).pattern }, { kind: 'file.contains', pattern: '/^from golang/i' });
  assert.equal(checkTitle(c!), 'File Dockerfile contains a match for /^from golang/i');
  // u makes the body stricter: "\\-" is no escape in a unicode regex (read as plain text it would be valid).
  assert.match(ok('file: x\nmatches: "/a\\\\-/u"\n').problems[0]!.message, /: Invalid escape$/);
  // Unsafe or unknown flags: not the /re/flags form, so the text as written (valid here).
  assert.deepEqual(ok('file: x\nmatches: "/from/g"\n').problems, []);
  assert.deepEqual(ok('file: x\nmatches: "^FROM golang:1\\\\.19 AS builder"\n').problems, []);
  assert.match(ok('file: x\nmatches: "FROM (golang"\n').problems[0]!.message, /Unterminated group/);
});

test('literal "contains" text is escaped so the evaluator reads it literally', () => {
  const [c] = parseChecks('file: Dockerfile\ncontains: COPY --from=builder /src/app .\n', 1).checks;
  assert.equal((c as { pattern: string }).pattern, 'COPY --from=builder \\/src\\/app \\.');
  assert.equal(checkTitle(c!), 'File Dockerfile contains "COPY --from=builder /src/app ."');
});

test('within: gives each assertion of the item its settle time; a bad or too long one is an error at its line', () => {
  const r = parseChecks('- container: web\n  health: healthy\n  state: running\n  within: 30s\n- image: app:v1\n', 1);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.checks.map((c) => c.withinMs), [30_000, 30_000, undefined]);
  assert.deepEqual(['2m', '500ms', 5, '0'].map((w) => parseChecks(`run: "true"\nwithin: ${w}\n`, 1).checks[0]?.withinMs), [120_000, 500, 5_000, 0]);
  for (const w of ['soon', '11m', 'true', '-3s']) {
    const bad = parseChecks(`- run: "true"\n  within: ${w}\n`, 3);
    assert.equal(bad.checks.length, 0, w);
    assert.equal(bad.problems[0]!.line, 4);
    assert.match(bad.problems[0]!.message, /bad "within"/);
  }
});
