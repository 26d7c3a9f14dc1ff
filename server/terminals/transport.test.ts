import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SandboxRef, SandboxShell, ShellStream } from '../../sandbox/driver/types.ts';
import { chooseTransport, createTerminalTransport } from './transport.ts';
import type { PtyProcess } from './terminal.ts';

const ref = { id: 'abc', node: 1, terminalSocket: '/x/attach/term.sock', socketDir: '/x/run' } as SandboxRef;

test('chooseTransport: auto prefers the local dtach path when the socket dir is here', () => {
  assert.equal(chooseTransport('auto', true), 'local');
  assert.equal(chooseTransport('auto', false), 'exec');
  assert.equal(chooseTransport('local', false), 'local');
  assert.equal(chooseTransport('exec', true), 'exec');
});

function deps(mode: 'auto' | 'local' | 'exec', local: boolean) {
  const calls: string[] = [];
  const fakePty = {} as PtyProcess;
  const shell: SandboxShell = {
    attachShell: async (r, c, rows) => {
      calls.push(`attach ${r.id} ${c}x${rows}`);
      return { onData() {}, onEnd() {}, write() {}, resize: async () => {}, pause() {}, resume() {}, close: async () => {} } as ShellStream;
    },
    ensureShellInSandbox: async (r) => void calls.push(`ensure-in ${r.id}`),
  };
  const wireFor = createTerminalTransport({
    mode,
    spawnLocal: (sock, c, r) => (calls.push(`dtach ${sock} ${c}x${r}`), fakePty),
    ensureLocal: async (r) => void calls.push(`ensure-local ${r.id}`),
    shell,
    isLocal: () => local,
  });
  return { wire: wireFor(ref), calls, fakePty };
}

test('local: the dtach socket attach and the driver ensureShell', async () => {
  const { wire, calls, fakePty } = deps('auto', true);
  assert.equal(wire.kind, 'local');
  assert.equal(wire.spawn(80, 24), fakePty);
  await wire.ensureShell();
  assert.deepEqual(calls, ['dtach /x/attach/term.sock 80x24', 'ensure-local abc']);
});

test('exec: attach and ensure through the engine, nothing on this host', async () => {
  for (const [mode, local] of [['auto', false], ['exec', true]] as const) {
    const { wire, calls } = deps(mode, local);
    assert.equal(wire.kind, 'exec');
    await wire.ensureShell();
    wire.spawn(80, 24);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['ensure-in abc', 'attach abc 80x24']);
  }
});

test('an unknown mode is refused', () => {
  assert.throws(() => createTerminalTransport({ mode: 'ssh' as 'auto', spawnLocal: () => ({}) as PtyProcess, ensureLocal: async () => {}, shell: {} as SandboxShell }), /TERMINAL_TRANSPORT/);
});

test('auto: a sandbox on a remote engine (no socket folder on this host) gets the exec transport', () => {
  const wireFor = createTerminalTransport({ mode: 'auto', spawnLocal: () => assert.fail('no host dtach'), ensureLocal: async () => assert.fail('no local check'), shell: {} as SandboxShell });
  assert.equal(wireFor({ ...ref, socketDir: '', engineSocket: '', terminalSocket: '' }).kind, 'exec');
  assert.equal(wireFor({ ...ref, socketDir: process.cwd() }).kind, 'local', 'a folder here: local');
  const logs: string[] = [];
  const forced = createTerminalTransport({ mode: 'local', spawnLocal: () => assert.fail('no host dtach'), ensureLocal: async () => assert.fail('no local check'), shell: {} as SandboxShell, log: (m) => logs.push(m) });
  assert.equal(forced({ ...ref, socketDir: '', engineSocket: '', terminalSocket: '' }).kind, 'exec', 'local cannot reach a remote sandbox');
  assert.ok(logs.some((m) => /remote engine/.test(m)));
});
