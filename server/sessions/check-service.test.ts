// A learner's session runs each step's set-up in the sandbox of the node it names (an Instruqt
// setup-web on node 2), once, and a lab with set-up but no checks still gets a runner to run it; a
// command check that names a node (an Instruqt check-web) runs there too.
import { test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import type { Lab } from '../labs/types.ts';
import { createFakeTimers } from '../fake-timers.test-support.ts';
import { createCheckService } from './check-service.ts';
import { createSessionRuntime } from './runtime.ts';
import type { PtyProcess } from '../terminals/terminal.ts';

const ref = (node: number) => ({ id: `c${node}`, node, sessionId: 'x', workdir: '/root' }) as unknown as SandboxRef;

function fakeDriver() {
  const execs: Array<{ node: number; script: string }> = [];
  const driver = {
    engine: () => ({ events: () => () => {} }),
    exec: async (r: SandboxRef, cmd: string[]) => {
      execs.push({ node: r.node, script: cmd.at(-1)! });
      return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
    },
  } as unknown as SandboxDriver;
  return { driver, execs };
}

const lab = {
  id: 'two', terms: 2,
  steps: [
    { id: 's1', index: 0, title: 'One', line: 1, blocks: [], checks: [] },
    { id: 's2', index: 1, title: 'Two', line: 5, blocks: [], checks: [], setup: [{ node: 2, script: 'echo web' }, { node: 1, script: 'echo shell' }] },
  ],
} as unknown as Lab;

test('set-up runs on the node it names, in order, once per session', async () => {
  const { driver, execs } = fakeDriver();
  const service = createCheckService({ driver, timers: createFakeTimers(0), log() {} });
  const runner = service.start({ lab, refs: [ref(1), ref(2)], isPassed: () => false, onResults() {} });
  assert.deepEqual(await runner.setup('s2'), { ok: true });
  assert.deepEqual(await runner.setup('s2'), { ok: true });
  assert.deepEqual(execs.map((e) => [e.node, /echo (\w+)/.exec(e.script)?.[1]]), [[2, 'web'], [1, 'shell']]);
  runner.dispose();
});

test('a session without node 2 says so instead of running node 2\'s set-up on node 1', async () => {
  const { driver, execs } = fakeDriver();
  const runner = createCheckService({ driver, timers: createFakeTimers(0), log() {} }).start({ lab, refs: [ref(1)], isPassed: () => false, onResults() {} });
  assert.deepEqual(await runner.setup('s2'), { ok: false, message: "the step's set-up script 1 is for node2, which this session does not have" });
  assert.deepEqual(execs, []);
  runner.dispose();
});

const checked = {
  id: 'checked', terms: 2,
  steps: [{ id: 's1', index: 0, title: 'One', line: 1, blocks: [], checks: [{ id: 's1.c1', line: 3, kind: 'command', run: 'echo on-web', node: 2 }] }],
} as unknown as Lab;

test('a command check that names node 2 runs in node 2\'s sandbox; without node 2 it fails and says why', async () => {
  const { driver, execs } = fakeDriver();
  const runner = createCheckService({ driver, timers: createFakeTimers(0), log() {} }).start({ lab: checked, refs: [ref(1), ref(2)], isPassed: () => false, onResults() {} });
  assert.deepEqual((await runner.runStep('s1')).map((v) => v.status), ['pass']);
  assert.deepEqual(execs.map((e) => [e.node, /echo ([\w-]+)/.exec(e.script)?.[1]]), [[2, 'on-web']]);
  runner.dispose();
  const alone = fakeDriver();
  const one = createCheckService({ driver: alone.driver, timers: createFakeTimers(0), log() {} }).start({ lab: checked, refs: [ref(1)], isPassed: () => false, onResults() {} });
  assert.deepEqual((await one.runStep('s1')).map((v) => [v.status, v.message]), [['fail', 'This check runs on node2, which this session does not have.']]);
  assert.deepEqual(alone.execs, []);
  one.dispose();
});

test('a lab with set-up and no checks gets a runner (its set-up must run)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-check-service-test-'));
  const pty = (): PtyProcess => ({ onData() {}, onExit() {}, write() {}, resize() {}, pause() {}, resume() {}, kill() {} });
  let started = 0;
  const rt = createSessionRuntime({
    sessionId: 'x', lab, refs: [ref(1), ref(2)], timers: createFakeTimers(0), passed: [], log() {},
    wire: () => ({ spawn: () => pty(), ensureShell: async () => {} }),
    scrollbackFile: (node) => path.join(dir, `x-${node}.log`),
    checks: { start: ({ refs }) => (started++, assert.equal(refs.length, 2), { runStep: async () => [], stepStarted() {}, setup: async () => ({ ok: true }), poke() {}, dispose() {} }) },
    record: async (v) => v,
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(started, 1);
  assert.ok(rt.runner);
  rt.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});
