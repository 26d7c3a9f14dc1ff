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
