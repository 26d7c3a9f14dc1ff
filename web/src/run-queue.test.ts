import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunQueue, inputModeFor, type InputMode, type QueuedBlock } from './run-queue.ts';

function setup(quietMs = 5_000) {
  const sent: string[] = [];
  const modes: InputMode[] = [];
  const timers = new Map<number, { at: number; fn: () => void }>();
  let now = 0;
  let seq = 0;
  const q = new RunQueue({
    send: (b, mode) => {
      sent.push(b.key);
      modes.push(mode);
    },
    changed: () => {},
    quietMs,
    timers: {
      setTimeout: (fn, ms) => (timers.set(++seq, { at: now + ms, fn }), seq),
      clearTimeout: (h) => void timers.delete(h as number),
    },
  });
  const advance = (ms: number) => {
    now += ms;
    for (const [id, t] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at <= now && timers.has(id)) {
        timers.delete(id);
        t.fn();
      }
    }
  };
  const block = (key: string): QueuedBlock => ({ key, code: `echo ${key}` });
  return { q, sent, modes, advance, block };
}

test('clicks before the shell is attached wait, then run one per prompt, in click order', () => {
  const { q, sent, block } = setup();
  q.click(block('a'));
  q.click(block('b'));
  q.click(block('c'));
  assert.deepEqual(sent, []);
  assert.deepEqual(q.queued.map((b) => b.key), ['a', 'b', 'c']);
  q.attached();
  assert.deepEqual(sent, [], 'attached is not a prompt yet');
  q.prompt();
  assert.deepEqual(sent, ['a']);
  q.busy();
  q.prompt();
  assert.deepEqual(sent, ['a', 'b']);
  q.prompt(); // a prompt that came back without a busy in between still runs the next
  assert.deepEqual(sent, ['a', 'b', 'c']);
  assert.equal(q.queued.length, 0);
});

test('detached blocks never leave, however long the wait', () => {
  const { q, sent, advance, block } = setup(1_000);
  q.click(block('a'));
  advance(60_000);
  assert.deepEqual(sent, []);
  q.attached();
  q.detached(); // a reconnect in the middle
  advance(60_000);
  assert.deepEqual(sent, []);
  q.attached();
  q.prompt();
  assert.deepEqual(sent, ['a']);
});

test('a click at an idle prompt runs at once; a click while a block runs waits for the next prompt', () => {
  const { q, sent, advance, block } = setup();
  q.attached();
  q.prompt();
  q.click(block('build'));
  assert.deepEqual(sent, ['build']);
  q.click(block('run'));
  assert.deepEqual(sent, ['build'], 'the build is still running');
  q.output();
  advance(4_000);
  q.output(); // the build keeps printing: not quiet
  advance(4_000);
  assert.deepEqual(sent, ['build']);
  q.prompt();
  assert.deepEqual(sent, ['build', 'run']);
});

test('without a prompt (an inner sh), the next block is typed after the output has been quiet', () => {
  const { q, sent, advance, block } = setup(5_000);
  q.attached();
  q.prompt();
  q.click(block('docker run -it busybox sh'));
  q.click(block('ls'));
  q.busy();
  q.output();
  advance(4_999);
  assert.deepEqual(sent, ['docker run -it busybox sh']);
  advance(1);
  assert.deepEqual(sent, ['docker run -it busybox sh', 'ls']);
});

test('clicking a queued block again types it at once when a shell is attached', () => {
  const { q, sent, block } = setup();
  q.click(block('a'));
  q.click(block('a'));
  assert.deepEqual(sent, [], 'no shell yet: it stays queued');
  q.attached();
  q.click(block('b'));
  q.click(block('b'));
  assert.deepEqual(sent, ['b']);
  assert.deepEqual(q.queued.map((x) => x.key), ['a']);
});

test('a shell that attaches but never shows bracketed paste still gets its blocks after the quiet time', () => {
  const { q, sent, advance, block } = setup(2_000);
  q.click(block('a'));
  q.attached();
  advance(1_999);
  assert.deepEqual(sent, []);
  advance(1);
  assert.deepEqual(sent, ['a']);
});

test('a prompt replayed while detached is typed into only once the terminal attaches', () => {
  const { q, sent, block } = setup();
  q.click(block('a'));
  q.prompt(); // the scrollback replay ends on a prompt, before the pty is attached
  assert.deepEqual(sent, []);
  q.attached();
  assert.deepEqual(sent, ['a']);
});

test('a replay that ends mid-command waits for the live prompt', () => {
  const { q, sent, block } = setup();
  q.click(block('a'));
  q.prompt();
  q.busy(); // replay: the build was still running when the page reloaded
  q.attached();
  assert.deepEqual(sent, []);
  q.prompt();
  assert.deepEqual(sent, ['a']);
});

test('an interrupt block does not wait behind the command it is meant to stop', () => {
  const { q, sent, block } = setup();
  q.attached();
  q.prompt();
  q.click(block('sleep 600'));
  q.click({ ...block('stop'), interrupt: true });
  assert.deepEqual(sent, ['sleep 600', 'stop']);
  q.detached();
  q.click({ ...block('later'), interrupt: true });
  assert.deepEqual(sent, ['sleep 600', 'stop'], 'with no shell attached it queues like any block');
});

test('bracketed paste only at a marked prompt: a block typed after the quiet time, or clicked again, into a running program is plain keystrokes', () => {
  assert.deepEqual((['detached', 'waiting', 'prompt', 'busy'] as const).map(inputModeFor), ['type', 'type', 'paste', 'type']);
  const { q, sent, modes, advance, block } = setup(5_000);
  q.attached();
  q.prompt();
  q.click(block('docker-run'));
  assert.deepEqual(modes, ['paste'], 'at the prompt: a paste');
  q.busy(); // `docker run -it` is starting and prints nothing
  q.click(block('inside'));
  advance(5_000);
  assert.deepEqual(sent, ['docker-run', 'inside']);
  assert.deepEqual(modes, ['paste', 'type'], 'after the quiet time, into the running program: typed, never pasted');
  q.click(block('again'));
  q.click(block('again')); // clicked twice: sent at once, still not at a prompt
  assert.deepEqual(modes, ['paste', 'type', 'type']);
  q.click(block('next'));
  q.prompt();
  assert.deepEqual(modes, ['paste', 'type', 'type', 'paste'], 'the prompt is back: a paste again');
  // Before any prompt (attached, nothing marked yet): typed too.
  const w = setup(1_000);
  w.q.attached();
  w.q.click(w.block('early'));
  w.advance(1_000);
  assert.deepEqual(w.modes, ['type']);
});
