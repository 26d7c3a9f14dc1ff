// Batches terminal output for a few ms to cut the number of socket frames, but sends at once
// right after a keystroke so the echo feels local.
import { monotonicTimers, type Timers } from '../timers.ts';

export type { Timers };
export const realTimers: Timers = monotonicTimers;

export class OutputBatcher {
  private buf: string[] = [];
  private size = 0;
  private timer: unknown = null;
  private lastInputAt = -Infinity;

  constructor(
    private readonly flushTo: (data: string) => void,
    private readonly opts: { batchMs: number; echoWindowMs: number; maxBatchChars: number },
    private readonly timers: Timers = realTimers,
  ) {}

  /** Call on every keystroke sent to the pty. */
  inputSent(): void {
    this.lastInputAt = this.timers.now();
  }

  push(data: string): void {
    this.buf.push(data);
    this.size += data.length;
    const echo = this.timers.now() - this.lastInputAt <= this.opts.echoWindowMs;
    if (echo) {
      this.lastInputAt = -Infinity; // only the first output after a keystroke skips the batch window
      this.flush();
      return;
    }
    if (this.size >= this.opts.maxBatchChars) return this.flush();
    if (this.timer === null) this.timer = this.timers.setTimeout(() => this.flush(), this.opts.batchMs);
  }

  flush(): void {
    if (this.timer !== null) {
      this.timers.clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buf.length === 0) return;
    const data = this.buf.join('');
    this.buf = [];
    this.size = 0;
    this.flushTo(data);
  }

  dispose(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.buf = [];
    this.size = 0;
  }
}
