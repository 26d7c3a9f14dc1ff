import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Terminal, dropEcho, type PtyProcess, type Viewer } from './terminal.ts';
import { TUNING } from '../config.ts';
import { createFakeTimers } from '../fake-timers.test-support.ts';

class FakePty implements PtyProcess {
  dataFns: ((d: string) => void)[] = [];
  exitFns: ((c: number) => void)[] = [];
  written: string[] = [];
  paused = false;
  killed = false;
  size: [number, number] = [0, 0];
  onData(fn: (d: string) => void) { this.dataFns.push(fn); }
  onExit(fn: (c: number) => void) { this.exitFns.push(fn); }
  write(d: string) { this.written.push(d); }
  resize(c: number, r: number) { this.size = [c, r]; }
  pause() { this.paused = true; }
  resume() { this.paused = false; }
  kill() { this.killed = true; }
  emit(d: string) { for (const f of this.dataFns) f(d); }
  exit() { for (const f of this.exitFns) f(0); }
}

function viewer(id: string) {
  const got = { data: [] as string[], replay: [] as string[], states: [] as string[] };
  const v: Viewer = { id, data: (d) => got.data.push(d), replay: (d) => got.replay.push(d), state: (s) => got.states.push(s) };
  return { v, got };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('streams output, replays scrollback to a late viewer, and forwards input', async () => {
  const ptys: FakePty[] = [];
  const t = new Terminal({
    spawn: () => { const p = new FakePty(); ptys.push(p); return p; },
    ensureShell: async () => {},
    scrollback: { load: () => 'old output\r\n', append: () => {} },
  });
  t.start();
  await tick(5);
  const a = viewer('a');
  t.addViewer(a.v);
  assert.deepEqual(a.got.replay, ['old output\r\n']);
  ptys[0]!.emit('hello');
  await tick(20);
  assert.equal(a.got.data.join(''), 'hello');
  t.input('ls\r');
  assert.deepEqual(ptys[0]!.written, ['ls\r']);
  const b = viewer('b');
  t.addViewer(b.v);
  assert.equal(b.got.replay[0], 'old output\r\nhello');
  t.dispose();
  assert.equal(ptys[0]!.killed, true);
});

test('pauses the pty when the viewer stops acking, resumes when it catches up', async () => {
  const p = new FakePty();
  const t = new Terminal({ spawn: () => p, ensureShell: async () => {}, scrollback: { load: () => '', append: () => {} } });
  t.start();
  await tick(5);
  const a = viewer('a');
  t.addViewer(a.v);
  p.emit('x'.repeat(TUNING.flowHighWatermark + 1));
  assert.equal(p.paused, true);
  t.ack('a', TUNING.flowHighWatermark);
  assert.equal(p.paused, false);
  t.dispose();
});

test('re-attaches after the shell exits, with a note on screen', async () => {
  const ptys: FakePty[] = [];
  let ensured = 0;
  const t = new Terminal({
    spawn: () => { const p = new FakePty(); ptys.push(p); return p; },
    ensureShell: async () => { ensured++; },
    scrollback: { load: () => '', append: () => {} },
  });
  t.start();
  await tick(5);
  const a = viewer('a');
  t.addViewer(a.v);
  ptys[0]!.exit();
  await tick(800);
  assert.equal(ptys.length, 2);
  assert.equal(ensured, 2);
  assert.match(a.got.data.join(''), /shell ended/);
  t.dispose();
});

test('a sandbox that is gone ends in a failed state with a message', async () => {
  const t = new Terminal({ spawn: () => new FakePty(), ensureShell: async () => { throw new Error('gone'); }, scrollback: { load: () => '', append: () => {} } });
  const a = viewer('a');
  t.addViewer(a.v);
  t.start();
  await tick(5);
  assert.equal(t.state, 'failed');
  assert.ok(a.got.states.includes('failed'));
});

test('on an injected clock: a shell that ends is re-attached after the exit grace and the back-off, not before', async () => {
  const timers = createFakeTimers(0);
  const ptys: FakePty[] = [];
  const t = new Terminal({
    spawn: () => { const p = new FakePty(); ptys.push(p); return p; },
    ensureShell: async () => {},
    scrollback: { load: () => 'x', append: () => {} },
    timers,
  });
  const a = viewer('a');
  t.addViewer(a.v);
  t.start();
  await tick(1);
  assert.equal(ptys.length, 1);
  ptys[0]!.exit(); // at once: counts as a failed attach, so the back-off is 200 ms × 2
  timers.advance(249);
  assert.notEqual(t.state, 'reconnecting', 'output may still come for 250 ms after exit');
  timers.advance(1);
  assert.equal(t.state, 'reconnecting');
  timers.advance(399);
  await tick(1);
  assert.equal(ptys.length, 1, 'not before the back-off');
  timers.advance(1);
  await tick(1);
  assert.equal(ptys.length, 2, 're-attached at exactly 250 + 400 ms');
  t.dispose();
});

test('a fresh shell gets an Enter for its first prompt, and its echoed newline stays off the screen', async () => {
  const ptys: FakePty[] = [];
  const t = new Terminal({
    spawn: () => { const p = new FakePty(); ptys.push(p); return p; },
    ensureShell: async () => {},
    scrollback: { load: () => '', append: () => {} },
  });
  t.start();
  await tick(5);
  const a = viewer('a');
  t.addViewer(a.v);
  ptys[0]!.emit(''); // dtach attached (its screen clear dropped)
  assert.deepEqual(ptys[0]!.written, ['\r']);
  ptys[0]!.emit('\r');
  ptys[0]!.emit('\n\x1b[?2004l\r\x1b[?2004h[node1] /root $ ');
  await tick(20);
  assert.equal(a.got.data.join(''), '\x1b[?2004l\r\x1b[?2004h[node1] /root $ ');
  t.dispose();
});

test('dropEcho keeps whatever the shell said that is not the echo', () => {
  assert.deepEqual(dropEcho('\r\n', '\r\n$ '), ['', '$ ']);
  assert.deepEqual(dropEcho('\r\n', '\r'), ['\n', '']);
  assert.deepEqual(dropEcho('\r\n', 'bash: warning\r\n'), ['', 'bash: warning\r\n']);
});

test('times a keystroke until the first output after it; a paste or a block is not timed', async () => {
  const timers = createFakeTimers(0);
  const p = new FakePty();
  const echoes: number[] = [];
  const t = new Terminal({ spawn: () => p, ensureShell: async () => {}, scrollback: { load: () => 'seen\r\n', append: () => {} }, timers, onEcho: (ms) => echoes.push(ms) });
  t.start();
  await tick(5);
  p.emit('$ ');
  t.input('a');
  timers.advance(7);
  t.input('b'); // typed before the first echo came: the first keystroke's clock keeps running
  timers.advance(5);
  p.emit('ab');
  assert.deepEqual(echoes, [12]);
  p.emit('more output, nothing typed');
  assert.deepEqual(echoes, [12]);
  t.input('docker build -t welcome-optimized:v1 .\r');
  timers.advance(30);
  p.emit('Sending build context');
  assert.deepEqual(echoes, [12]);
  t.dispose();
});
