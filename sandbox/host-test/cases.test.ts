import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CASES, caseLine, caseResult, parseTap, startupLines, tapPassed, type Measured } from './cases.ts';
import { basePackages, baseKey, setupPackages } from './base-image.ts';
import { imagesKey } from './docker-disk.ts';

const facts = (driver: string) => `os=debian-12\ncgroup_fs=cgroup2fs\napparmor_enabled=Y\ndocker_driver=${driver}\n`;
const tap = (pass: number, fail: number, skipped = 0, exit = fail ? 1 : 0) =>
  `TAP version 13\n${fail ? 'not ok 2 - the parent cgroup holds the planned limits\n' : ''}1..${pass + fail}\n# tests ${pass + fail}\n# pass ${pass}\n# fail ${fail}\n# cancelled 0\n# skipped ${skipped}\n# exit ${exit}\n`;
const contained = {
  sandbox_ready: true,
  memory_max_bytes: 2147483648,
  pids_max: 1024,
  fork_bomb: { contained: true, forked: 1000 },
  memory_hog: { contained: true },
  survived: { running: true, engine: true, terminal: true },
};
const all: Measured = { facts: facts('systemd'), start: 'listening=1', learner: contained, limitsTap: tap(2, 0), routesTap: tap(12, 0), verifyExit: 'exit=0\n' };

test('a host where everything was seen to work', () => {
  assert.deepEqual(caseResult(CASES[0]!, all), {
    host: 'debian-12', cgroup: 2, driver: 'systemd', lsm: 'apparmor', sandbox_ready: true, limits_enforced: true, routes_refused: true, labs_verified: true,
  });
});

test('nothing measured is nothing proven: every flag false, the facts unknown', () => {
  assert.deepEqual(caseResult(CASES[1]!, {}), {
    host: 'debian-12', cgroup: null, driver: null, lsm: null, sandbox_ready: false, limits_enforced: false, routes_refused: false, labs_verified: false,
  });
});

test('the refusal of today (issue 19, case 1): no sandbox, so no limits measured, even if the cgroup test passes', () => {
  const r = caseResult(CASES[0]!, { ...all, learner: { sandbox_ready: false, error: 'session failed: sandbox failed to start' } });
  assert.equal(r.sandbox_ready, false);
  assert.equal(r.limits_enforced, false);
});

test('limits: an unlimited cgroup, an uncontained fork bomb or a dead engine each fail it', () => {
  for (const bad of [{ memory_max_bytes: 'max' }, { pids_max: 'max' }, { fork_bomb: { contained: false, forked: 1536 } }, { memory_hog: { contained: false } }, { survived: { running: true, engine: false, terminal: true } }]) {
    assert.equal(caseResult(CASES[0]!, { ...all, learner: { ...contained, ...bad } }).limits_enforced, false, JSON.stringify(bad));
  }
  assert.equal(caseResult(CASES[0]!, { ...all, limitsTap: tap(1, 1) }).limits_enforced, false, 'the cgroup test failed');
});

test('tests that were skipped or did not finish prove nothing', () => {
  assert.equal(tapPassed(parseTap(tap(3, 0, 1))), false);
  assert.equal(tapPassed(parseTap(tap(3, 0, 0, 124))), false);
  assert.equal(tapPassed(parseTap('TAP version 13\n')), false);
  assert.equal(tapPassed(parseTap(tap(3, 0))), true);
  assert.deepEqual(parseTap(tap(1, 1))!.failed, ['the parent cgroup holds the planned limits']);
  assert.equal(caseResult(CASES[0]!, { ...all, verifyExit: 'exit=1\n' }).labs_verified, false);
});

test('the case line carries the start-up line and the reasons', () => {
  const startLog = '[setup] done\ncgroup v2: refusing to start sandboxes: the host engine uses the systemd cgroup driver\nDocker labs: listening on http://0.0.0.0:8080\n';
  assert.deepEqual(startupLines(startLog), ['cgroup v2: refusing to start sandboxes: the host engine uses the systemd cgroup driver', 'Docker labs: listening on http://0.0.0.0:8080']);
  const m = { ...all, startLog, learner: { sandbox_ready: false, error: 'session failed' } };
  const line = caseLine(CASES[0]!, caseResult(CASES[0]!, m), m, '/logs/case-1');
  assert.match(line, /^case 1 debian-12 .*driver systemd, lsm apparmor/);
  assert.match(line, /refusing to start sandboxes/);
  assert.match(line, /sandbox ready: NO \(session failed\)/);
  assert.match(line, /logs: \/logs\/case-1$/);
});

test('cache keys change with their inputs', () => {
  const k = { script: 's', suite: 'bookworm', packages: ['a'], pubkey: 'k' };
  assert.notEqual(baseKey(k), baseKey({ ...k, packages: ['a', 'b'] }));
  assert.notEqual(baseKey(k), baseKey({ ...k, suite: 'trixie' }));
  assert.equal(imagesKey('b', { x: '1', y: '2' }), imagesKey('b', { y: '2', x: '1' }));
  assert.notEqual(imagesKey('b', { x: '1' }), imagesKey('b', { x: '2' }));
});

test('the base image has what setup.sh would install, so setup installs nothing in the VM', () => {
  const sh = 'command -v dockerd >/dev/null || missing+=(docker.io)\n[ -x /x ] || missing+=(postgresql)\n';
  assert.deepEqual(setupPackages(sh), ['docker.io', 'postgresql']);
  const pkgs = basePackages(sh);
  assert.ok(pkgs.includes('postgresql') && pkgs.includes('apparmor') && pkgs.includes('linux-image-amd64'));
  assert.equal(pkgs.filter((p) => p === 'docker.io').length, 1);
});
