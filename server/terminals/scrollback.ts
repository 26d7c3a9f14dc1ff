// Recent terminal output, bounded, for replay after a reload or a server restart.
export class Scrollback {
  private chunks: string[] = [];
  private size = 0;

  constructor(private readonly limit: number, initial = '') {
    if (initial) this.push(initial);
  }

  push(data: string): void {
    this.chunks.push(data);
    this.size += data.length;
    if (this.size > this.limit * 2) this.compact();
  }

  /** The last `limit` chars, cut at a line start so the replay doesn't begin mid escape sequence. */
  text(): string {
    this.compact();
    return this.chunks[0] ?? '';
  }

  get length(): number {
    return Math.min(this.size, this.limit);
  }

  private compact(): void {
    let all = this.chunks.join('');
    if (all.length > this.limit) {
      all = all.slice(all.length - this.limit);
      const nl = all.indexOf('\n');
      if (nl !== -1 && nl < 4096) all = all.slice(nl + 1);
    }
    this.chunks = all ? [all] : [];
    this.size = all.length;
  }
}
