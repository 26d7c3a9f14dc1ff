// The clock and timers, behind an interface so timing logic is tested with a fake clock.
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Wall-clock time (epoch ms) and real timers. */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Monotonic time (for measuring short intervals) and real timers. */
export const monotonicTimers: Timers = { ...systemTimers, now: () => performance.now() };

/**
 * Calls fn every `ms` until the returned stop() is called. Built on setTimeout, so a fake clock
 * needs nothing more. Real handles are unref'd: a periodic chore must not keep the process alive.
 */
export function every(timers: Timers, ms: number, fn: () => void): () => void {
  let stopped = false;
  let handle: unknown;
  const arm = () => {
    handle = timers.setTimeout(tick, ms);
    (handle as { unref?: () => void } | undefined)?.unref?.();
  };
  const tick = () => {
    if (stopped) return;
    arm();
    fn();
  };
  arm();
  return () => {
    stopped = true;
    timers.clearTimeout(handle);
  };
}
