// A manual clock for tests: time moves only when advance() is called, and due timers fire in order.
import type { Timers } from './timers.ts';

export interface FakeTimers extends Timers {
  /** Moves the clock forward, firing every timer that falls due on the way (also ones armed meanwhile). */
  advance(ms: number): void;
  /** Timers armed and not yet fired or cleared. */
  pending(): number;
}

export function createFakeTimers(start = 0): FakeTimers {
  let t = start;
  let nextId = 1;
  const armed = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => t,
    setTimeout(fn, ms) {
      const id = nextId++;
      armed.set(id, { at: t + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(h) {
      armed.delete(h as number);
    },
    advance(ms) {
      const end = t + ms;
      for (;;) {
        let due: [number, { at: number; fn: () => void }] | undefined;
        for (const e of armed) if (e[1].at <= end && (!due || e[1].at < due[1].at)) due = e;
        if (!due) break;
        armed.delete(due[0]);
        t = due[1].at;
        due[1].fn();
      }
      t = end;
    },
    pending: () => armed.size,
  };
}
