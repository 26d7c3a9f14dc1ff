// Author regexes run against up to 1 MiB of learner-controlled text. A backtracking pattern such as
// /(a+)+$/ on "aaaa…b" runs for hours, and a synchronous regex cannot be pre-empted on the event
// loop: one check would freeze every terminal. So matching happens in a worker thread with a hard
// deadline; past it the worker is terminated (which does stop a running regex) and a fresh one
// takes the next match. re2 would need a native build that is not available offline here.
import { Worker } from 'node:worker_threads';

export interface RegexMatch {
  /** Index of the first match. */
  index: number;
}

/** Thrown when a pattern was stopped: it ran past its deadline, or exhausted the worker's memory. */
export class RegexStopped extends Error {}

export interface BoundedRegex {
  /** First match of /source/flags in text, or null. Rejects with RegexStopped or the engine's SyntaxError. */
  exec(source: string, flags: string, text: string): Promise<RegexMatch | null>;
  dispose(): Promise<void>;
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, source, flags, text }) => {
  parentPort.postMessage({ id, started: true });
  try {
    const m = new RegExp(source, flags).exec(text);
    parentPort.postMessage({ id, index: m ? m.index : -1 });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message || e) });
  }
});
`;

interface Job {
  id: number;
  source: string;
  flags: string;
  text: string;
  resolve: (m: RegexMatch | null) => void;
  reject: (e: Error) => void;
}

export function createBoundedRegex(opts: { timeoutMs: number }): BoundedRegex {
  let worker: Worker | undefined;
  let seq = 0;
  const queue: Job[] = [];
  let current: { job: Job; timer: NodeJS.Timeout; worker: Worker } | undefined;
  // The deadline counts from when the worker starts the match: starting a worker thread can take
  // seconds on a busy or emulated machine, and that time is not the pattern's.
  const startMs = Math.max(30_000, opts.timeoutMs);
  let disposed = false;

  function spawn(): Worker {
    const w = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 256 } });
    w.unref(); // an idle matcher must not keep the process alive
    w.on('message', (msg: { id: number; started?: boolean; index?: number; error?: string }) => {
      if (!current || current.job.id !== msg.id) return;
      if (msg.started) {
        clearTimeout(current.timer);
        current.timer = watchdog(w, opts.timeoutMs, `the pattern ran for more than ${opts.timeoutMs} ms and was stopped`);
        return;
      }
      const { job, timer } = current;
      clearTimeout(timer);
      current = undefined;
      w.unref();
      if (msg.error !== undefined) job.reject(new SyntaxError(msg.error));
      else job.resolve(msg.index! >= 0 ? { index: msg.index! } : null);
      next();
    });
    // A worker dies under a running match when the pattern exhausts its memory (resourceLimits).
    w.on('error', () => current?.worker === w && fail(new RegexStopped('the pattern used too much memory and was stopped')));
    w.on('exit', () => {
      if (worker === w) worker = undefined;
      if (current?.worker === w) fail(new RegexStopped('the pattern used too much memory and was stopped'));
    });
    return w;
  }

  /** Real time on purpose, not the injected clock: this watchdog stops a pattern burning real CPU. */
  function watchdog(w: Worker, ms: number, why: string): NodeJS.Timeout {
    return setTimeout(() => {
      // terminate() interrupts the running regex; the next job gets a new worker.
      if (worker === w) worker = undefined;
      fail(new RegexStopped(why));
      void w.terminate();
    }, ms);
  }

  function fail(err: Error): void {
    if (!current) return;
    clearTimeout(current.timer);
    const { job } = current;
    current = undefined;
    job.reject(err);
    next();
  }

  function next(): void {
    if (current || disposed) return;
    const job = queue.shift();
    if (!job) return;
    worker ??= spawn();
    const w = worker;
    const timer = watchdog(w, startMs, `the pattern matcher did not start within ${startMs / 1000} s`);
    current = { job, timer, worker: w };
    w.ref(); // while a match runs, the process waits for it (unref'd again when it answers)
    w.postMessage({ id: job.id, source: job.source, flags: job.flags, text: job.text });
  }

  return {
    exec(source, flags, text) {
      if (disposed) return Promise.reject(new Error('the pattern matcher is disposed'));
      return new Promise((resolve, reject) => {
        queue.push({ id: ++seq, source, flags, text, resolve, reject });
        next();
      });
    },
    async dispose() {
      disposed = true;
      for (const j of queue.splice(0)) j.reject(new Error('the pattern matcher is disposed'));
      if (current) fail(new Error('the pattern matcher is disposed'));
      await worker?.terminate();
      worker = undefined;
    },
  };
}

/** How long one author pattern may run against one text. */
export const REGEX_TIMEOUT_MS = 1_000;

let shared: BoundedRegex | undefined;
/** The process's matcher, made on first use (nothing happens at import). */
export function sharedBoundedRegex(): BoundedRegex {
  shared ??= createBoundedRegex({ timeoutMs: REGEX_TIMEOUT_MS });
  return shared;
}
