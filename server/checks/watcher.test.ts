import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../../sandbox/driver/types.ts';
import type { CheckResult, CheckSpec } from './types.ts';
import { createCheckWatcher, isAffected, type WatcherClock } from './watcher.ts';
import { fakeContext, fakeEngine } from './fakes.test-support.ts';

/** A clock whose timers fire only when the test advances it. */
function manualClock() {
  let now = 0;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: WatcherClock & { advance(ms: number): Promise<void>; pending(): number[] } = {
    now: () => now,
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(h) { timers.delete(h as number); },
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        await new Promise((r) => setImmediate(r)); // let the evaluation's promises settle
      }
      now = end;
      await new Promise((r) => setImmediate(r));
    },
    pending: () => [...timers.values()].map((t) => t.at - now),
  };
  return clock;
}

const ev = (type: string, action: string, attrs: Record<string, string> = {}, subject = 'sha256:abc'): EngineEvent =>
  ({ type, action, subject, attributes: attrs, time: 0 });

const S = {
  size: { id: 'size', line: 1, kind: 'image.size', image: 'app:v1', maxBytes: 20_000_000 },
  base: { id: 'base', line: 2, kind: 'image.base', image: 'app:v1', base: 'scratch', shares: true },
  web: { id: 'web', line: 3, kind: 'container.state', container: 'web', state: 'running' },
  gone: { id: 'gone', line: 4, kind: 'container.gone', container: 'old' },
  file: { id: 'file', line: 5, kind: 'file.exists', path: 'Dockerfile', exists: true },
  cmd: { id: 'cmd', line: 6, kind: 'command', run: 'docker run --rm app:v1' },
} satisfies Record<string, CheckSpec>;

describe('which checks an event affects', () => {
  it('image events touch image checks only; container events touch that container only; files and commands never', () => {
    const tag = ev('image', 'tag', { name: 'app:v1' });
    assert.ok(isAffected(S.size, tag));
    assert.ok(isAffected(S.base, ev('image', 'delete')));
    assert.ok(!isAffected(S.web, tag));
    assert.ok(!isAffected(S.file, tag));
    assert.ok(!isAffected(S.cmd, tag));
    const start = ev('container', 'start', { name: 'web', image: 'app:v1' }, 'f00dcafe');
    assert.ok(isAffected(S.web, start));
    assert.ok(!isAffected(S.gone, start));
    assert.ok(isAffected(S.gone, ev('container', 'destroy', { name: 'old' })));
    assert.ok(!isAffected(S.size, start));
    assert.ok(!isAffected(S.cmd, start));
    assert.ok(!isAffected(S.web, ev('container', 'exec_start: sh', { name: 'web' })));
    assert.ok(!isAffected(S.web, ev('network', 'connect', { name: 'web' })));
  });
});

function setup(pending: CheckSpec[] = Object.values(S)) {
  const engine = fakeEngine();
  const clock = manualClock();
  const evaluated: string[][] = [];
  const reported: CheckResult[][] = [];
  const errors: Error[] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const watcher = createCheckWatcher({
    ctx: fakeContext(engine),
    pendingChecks: () => pending,
    clock,
    onResults: (r) => reported.push(r),
    onError: (e) => errors.push(e),
    async evaluate(specs) {
      evaluated.push(specs.map((s) => s.id));
      if (hold) await new Promise<void>((r) => { release = r; });
      return specs.map((s) => ({ id: s.id, status: 'pass' as const, expected: '', message: '', at: 0, durationMs: 0 }));
    },
  });
  const emit = (e: EngineEvent) => engine.listeners.filter((l) => !l.stopped).forEach((l) => l.onEvent(e));
  return {
    engine, clock, evaluated, reported, errors, watcher, emit,
    holdEvaluations() { hold = true; },
    finish() { hold = false; release?.(); },
  };
}

describe('createCheckWatcher', () => {
  it('a multi-step build ends in one evaluation of the affected pending checks, 150 ms after the last event', async () => {
    const t = setup();
    for (let i = 0; i < 6; i++) {
      t.emit(ev('container', 'create', { name: `builder-${i}` }));
      t.emit(ev('container', 'destroy', { name: `builder-${i}` }));
      await t.clock.advance(100);
    }
    t.emit(ev('image', 'tag', { name: 'app:v1' }));
    await t.clock.advance(149);
    assert.deepEqual(t.evaluated, []);
    await t.clock.advance(1);
    assert.deepEqual(t.evaluated, [['size', 'base']]);
    assert.deepEqual(t.reported.map((r) => r.map((x) => x.id)), [['size', 'base']]);
    t.watcher.dispose();
  });
  it('a stream of events still evaluates within the max wait', async () => {
    const t = setup();
    for (let i = 0; i < 30; i++) {
      t.emit(ev('image', 'tag', { name: 'app:v1' }));
      await t.clock.advance(100);
    }
    assert.ok(t.evaluated.length >= 1 && t.evaluated.length <= 2, String(t.evaluated.length));
    t.watcher.dispose();
  });
  it('container events evaluate only that container\'s checks; nothing pending means no evaluation', async () => {
    const t = setup();
    t.emit(ev('container', 'start', { name: 'web' }));
    await t.clock.advance(200);
    assert.deepEqual(t.evaluated, [['web']]);
    const idle = setup([S.file]);
    idle.emit(ev('image', 'tag', { name: 'app:v1' }));
    await idle.clock.advance(500);
    assert.deepEqual(idle.evaluated, []);
    t.watcher.dispose();
    idle.watcher.dispose();
  });
  it('poke re-evaluates every pending check, files and commands included', async () => {
    const t = setup();
    t.watcher.poke();
    await t.clock.advance(150);
    assert.deepEqual(t.evaluated, [['size', 'base', 'web', 'gone', 'file', 'cmd']]);
    t.watcher.dispose();
  });
  it('never runs two evaluations at once: events during one lead to one more after it', async () => {
    const t = setup();
    t.holdEvaluations();
    t.emit(ev('image', 'tag', { name: 'app:v1' }));
    await t.clock.advance(150);
    assert.equal(t.evaluated.length, 1);
    t.emit(ev('image', 'untag'));
    t.emit(ev('image', 'delete'));
    await t.clock.advance(500);
    assert.equal(t.evaluated.length, 1);
    t.finish();
    await t.clock.advance(0);
    await t.clock.advance(150);
    assert.equal(t.evaluated.length, 2);
    t.watcher.dispose();
  });
  it('reconnects with backoff when the event stream ends, then looks at everything once', async () => {
    const t = setup();
    assert.equal(t.engine.listeners.length, 1);
    t.engine.listeners[0]!.onEnd(new Error('socket hang up'));
    assert.equal(t.errors[0]?.message, 'socket hang up');
    await t.clock.advance(249);
    assert.equal(t.engine.listeners.length, 1);
    await t.clock.advance(1);
    assert.equal(t.engine.listeners.length, 2);
    await t.clock.advance(150);
    assert.deepEqual(t.evaluated, [['size', 'base', 'web', 'gone', 'file', 'cmd']]);
    // Ends again at once: the delay doubles.
    t.engine.listeners[1]!.onEnd();
    await t.clock.advance(499);
    assert.equal(t.engine.listeners.length, 2);
    await t.clock.advance(1);
    assert.equal(t.engine.listeners.length, 3);
    // An event resets the backoff.
    t.emit(ev('image', 'tag'));
    t.engine.listeners[2]!.onEnd();
    await t.clock.advance(250);
    assert.equal(t.engine.listeners.length, 4);
    t.watcher.dispose();
  });
  it('dispose stops the stream and every timer, and drops late results', async () => {
    const t = setup();
    t.holdEvaluations();
    t.watcher.poke();
    await t.clock.advance(150);
    t.emit(ev('image', 'tag'));
    t.watcher.dispose();
    assert.ok(t.engine.listeners.every((l) => l.stopped));
    t.finish();
    await t.clock.advance(10_000);
    assert.deepEqual(t.reported, []);
    assert.deepEqual(t.clock.pending(), []);
    t.emit(ev('image', 'tag'));
    t.watcher.poke();
    assert.deepEqual(t.clock.pending(), []);
  });
  it('an evaluation that throws is reported and the watcher keeps going', async () => {
    const engine = fakeEngine();
    const clock = manualClock();
    const errors: Error[] = [];
    let n = 0;
    const w = createCheckWatcher({
      ctx: fakeContext(engine), pendingChecks: () => [S.size], clock, onResults: () => n++, onError: (e) => errors.push(e),
      evaluate: async () => { throw new Error('boom'); },
    });
    w.poke();
    await clock.advance(150);
    assert.equal(errors[0]?.message, 'boom');
    assert.equal(n, 0);
    w.dispose();
  });
});
