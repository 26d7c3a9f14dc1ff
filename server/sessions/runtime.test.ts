// The session runtime hands the injected clock to its terminals (their re-attach back-off runs on it).
import { test, after } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import type { Lab } from '../labs/types.ts';
import type { PtyProcess } from '../terminals/terminal.ts';
import { createFakeTimers } from '../fake-timers.test-support.ts';
import { createSessionRuntime } from './runtime.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-runtime-test-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('terminals of a session run on the injected clock', async () => {
  const timers = createFakeTimers(0);
  const exits: (() => void)[] = [];
  let spawned = 0;
  const pty = (): PtyProcess => ({ onData() {}, onExit(fn) { exits.push(() => fn(0)); }, write() {}, resize() {}, pause() {}, resume() {}, kill() {} });
  const ref = { id: 's1', node: 1, sessionId: 'x' } as SandboxRef;
  const lab = { steps: [] } as unknown as Lab;
  const rt = createSessionRuntime({
    sessionId: 'x', lab, refs: [ref], timers, passed: [], log() {},
    wire: () => ({ spawn: () => (spawned++, pty()), ensureShell: async () => {} }),
    scrollbackFile: (node) => path.join(dir, `x-${node}.log`),
    checks: { start: () => { throw new Error('no checks in this lab'); } },
    record: async (v) => v,
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(spawned, 1);
  exits[0]!();
  timers.advance(650); // 250 ms exit grace + 400 ms back-off, on the fake clock only
  await new Promise((r) => setImmediate(r));
  assert.equal(spawned, 2);
  rt.dispose();
});
