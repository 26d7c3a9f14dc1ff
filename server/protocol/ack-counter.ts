// The browser's half of terminal flow control (server/realtime/flow-control.ts is the other half).

/** Browser side: counts rendered chars and says when to send an ack. */
export class AckCounter {
  private pending = 0;
  constructor(private readonly every: number) {}
  /** Returns the number of chars to ack now, or 0. */
  rendered(chars: number): number {
    this.pending += chars;
    if (this.pending < this.every) return 0;
    const n = this.pending;
    this.pending = 0;
    return n;
  }
}
