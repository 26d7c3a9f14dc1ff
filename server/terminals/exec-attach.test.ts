import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ShellStream } from '../../sandbox/driver/types.ts';
import { spawnExecAttach } from './exec-attach.ts';

/** A ShellStream driven by the test, recording what the adapter asked of it. */
class FakeStream implements ShellStream {
  dataFn: (b: Buffer) => void = () => {};
  endFn: (code: number | null) => void = () => {};
  written: string[] = [];
  sizes: [number, number][] = [];
  paused = false;
  closed = 0;
  resizeFails = false;
  onData(fn: (b: Buffer) => void) { this.dataFn = fn; }
  onEnd(fn: (code: number | null) => void) { this.endFn = fn; }
  write(d: string) { this.written.push(d); }
  async resize(c: number, r: number) {
    if (this.resizeFails) throw new Error('exec not running');
    this.sizes.push([c, r]);
  }
  pause() { this.paused = true; }
  resume() { this.paused = false; }
  async close() { this.closed++; }
  emit(b: Buffer | string) { this.dataFn(Buffer.isBuffer(b) ? b : Buffer.from(b)); }
}

const tick = () => new Promise((r) => setImmediate(r));

function setup(open?: (cols: number, rows: number) => Promise<ShellStream>) {
  const s = new FakeStream();
  const opened: [number, number][] = [];
  const p = spawnExecAttach({ open: open ?? (async (c, r) => (opened.push([c, r]), s)), log: () => {} }, 100, 30);
  const out: string[] = [];
  const exits: number[] = [];
  p.onData((d) => out.push(d));
  p.onExit((c) => exits.push(c));
  return { s, p, out, exits, opened };
}

test('opens at the asked size and drops the attach clear at the start, not later', async () => {
  const { s, out, opened } = setup();
  await tick();
  assert.deepEqual(opened, [[100, 30]]);
  s.emit('\x1b[?1049h\x1b[H\x1b[J');
  s.emit('[node1] /root $ ');
  s.emit('clear again: \x1b[H\x1b[J');
  assert.equal(out.join(''), '\x1b[?1049h[node1] /root $ clear again: \x1b[H\x1b[J');
});

test('UTF-8 split across chunks arrives whole', async () => {
  const { s, out } = setup();
  await tick();
  s.emit('\x1b[H\x1b[J');
  const bytes = Buffer.from('été € 🐳 ok', 'utf8');
  // One byte at a time: every multi-byte character is split.
  for (let i = 0; i < bytes.length; i++) s.emit(bytes.subarray(i, i + 1));
  assert.equal(out.join(''), 'été € 🐳 ok');
  assert.ok(!out.join('').includes('\ufffd'));
});

test('the head is passed on after 64 chars without a clear, and at exit', async () => {
  const a = setup();
  await tick();
  a.s.emit('x'.repeat(70));
  assert.equal(a.out.join(''), 'x'.repeat(70));
  const b = setup();
  await tick();
  b.s.emit('dtach: /run/lab/term.sock: Connection refused\r\n');
  assert.deepEqual(b.out, []);
  b.s.endFn(1);
  assert.deepEqual(b.out, ['dtach: /run/lab/term.sock: Connection refused\r\n']);
  assert.deepEqual(b.exits, [1]);
});

test('exit: the code is passed on once; an unknown code counts as a failed attach; an incomplete character is flushed', async () => {
  const { s, out, exits } = setup();
  await tick();
  s.emit('\x1b[H\x1b[Jbye ');
  s.emit(Buffer.from([0xe2, 0x82])); // the first two bytes of €
  s.endFn(0);
  s.endFn(0);
  assert.deepEqual(exits, [0]);
  assert.equal(out.join(''), 'bye \ufffd');
  const b = setup();
  await tick();
  b.s.endFn(null);
  assert.deepEqual(b.exits, [1]);
});

test('an attach that cannot open exits with 1 (the terminal then retries)', async () => {
  const { exits, out } = setup(async () => {
    throw new Error('no such container');
  });
  await tick();
  assert.deepEqual(exits, [1]);
  assert.deepEqual(out, ['']); // the empty head: the attach is over
});

test('input, a resize and a pause before the stream opens are applied once it does, in order', async () => {
  let resolve!: (s: ShellStream) => void;
  const s = new FakeStream();
  const { p } = setup(() => new Promise((r) => (resolve = r)));
  p.write('echo a\r');
  p.write('echo b\r');
  p.resize(120, 40);
  p.pause();
  assert.deepEqual(s.written, []);
  resolve(s);
  await tick();
  assert.deepEqual(s.written, ['echo a\r', 'echo b\r']);
  assert.deepEqual(s.sizes, [[120, 40]]);
  assert.equal(s.paused, true);
  p.resume();
  assert.equal(s.paused, false);
  p.write('x');
  assert.deepEqual(s.written, ['echo a\r', 'echo b\r', 'x']);
});

test('resize and pause/resume reach an open stream; a failed resize is only logged', async () => {
  const { s, p } = setup();
  await tick();
  p.resize(90, 20);
  await tick();
  assert.deepEqual(s.sizes, [[90, 20]]);
  p.pause();
  assert.equal(s.paused, true);
  p.resume();
  assert.equal(s.paused, false);
  s.resizeFails = true;
  p.resize(91, 21);
  await tick(); // no unhandled rejection
});

test('kill closes the stream once, also when the kill comes before it opened; input after kill is dropped', async () => {
  const a = setup();
  await tick();
  a.p.kill();
  a.p.kill();
  a.p.write('late');
  await tick();
  assert.equal(a.s.closed, 1);
  assert.deepEqual(a.s.written, []);

  let resolve!: (s: ShellStream) => void;
  const s = new FakeStream();
  const b = setup(() => new Promise((r) => (resolve = r)));
  b.p.write('never');
  b.p.kill();
  resolve(s);
  await tick();
  assert.equal(s.closed, 1);
  assert.deepEqual(s.written, []);
});
