// Ack-based flow control for one terminal's output, pure and clock-free.
// The producer pauses when any attached viewer has too much unacknowledged output, and resumes
// when every viewer is back under the low watermark (the VS Code terminalProcess scheme).

export interface FlowControlOptions {
  high: number;
  low: number;
}

export class FlowControl {
  private readonly unacked = new Map<string, number>();
  private paused = false;

  constructor(private readonly opts: FlowControlOptions, private readonly onChange: (paused: boolean) => void) {
    if (!(opts.low > 0 && opts.low < opts.high)) throw new Error('flow control needs 0 < low < high');
  }

  get isPaused(): boolean {
    return this.paused;
  }

  addViewer(id: string): void {
    this.unacked.set(id, 0);
    this.update();
  }

  removeViewer(id: string): void {
    this.unacked.delete(id);
    this.update();
  }

  /** Output of `chars` length went out to every viewer. */
  sent(chars: number): void {
    for (const [id, n] of this.unacked) this.unacked.set(id, n + chars);
    this.update();
  }

  /** A viewer rendered `chars` more. Bogus acks (negative, NaN, more than was sent) are clamped. */
  acked(id: string, chars: number): void {
    const n = this.unacked.get(id);
    if (n === undefined || !Number.isFinite(chars) || chars <= 0) return;
    this.unacked.set(id, Math.max(0, n - chars));
    this.update();
  }

  private update(): void {
    let worst = 0;
    for (const n of this.unacked.values()) worst = Math.max(worst, n);
    if (!this.paused && worst > this.opts.high) {
      this.paused = true;
      this.onChange(true);
    } else if (this.paused && worst < this.opts.low) {
      this.paused = false;
      this.onChange(false);
    }
  }
}

export { AckCounter } from '../protocol/ack-counter.ts';
