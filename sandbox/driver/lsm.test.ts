import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideLsm, readLsmFacts } from './lsm.ts';

const host = (files: Record<string, string>) => readLsmFacts((p) => {
  const v = files[p];
  if (v !== undefined) return v;
  throw new Error('ENOENT');
});

test('no LSM: nothing to apply, said plainly', () => {
  const d = decideLsm(host({}));
  assert.ok(d.ok);
  assert.equal(d.securityOpt, undefined);
  assert.match(d.line, /^LSM: none/);
});

test('AppArmor with our profile loaded: sandboxes get it', () => {
  const d = decideLsm(host({ '/sys/module/apparmor/parameters/enabled': 'Y\n', '/sys/kernel/security/apparmor/profiles': 'docker-default (enforce)\nlablab-sandbox (enforce)\n' }));
  assert.ok(d.ok);
  assert.equal(d.securityOpt, 'apparmor=lablab-sandbox');
});

test('AppArmor without our profile: unconfined (docker-default breaks Docker-in-Docker), and the line says why and what to run', () => {
  const d = decideLsm(host({ '/sys/module/apparmor/parameters/enabled': 'Y\n', '/sys/kernel/security/apparmor/profiles': 'docker-default (enforce)\nlablab-sandboxes (enforce)\n' }));
  assert.ok(d.ok);
  assert.equal(d.securityOpt, 'apparmor=unconfined');
  assert.match(d.line, /not loaded \(run sandbox\/host\/setup\.sh\)/);
});

test('SELinux enforcing: refused with a sentence (untested there)', () => {
  const d = decideLsm(host({ '/sys/fs/selinux/enforce': '1' }));
  assert.ok(!d.ok);
  assert.match(d.reason, /SELinux is enforcing/);
  assert.ok(decideLsm(host({ '/sys/fs/selinux/enforce': '0' })).ok);
});
