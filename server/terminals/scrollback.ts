// Recent terminal output, bounded, for replay after a reload or a server restart.
// A push never copies what is already held: output is kept as a list of chunks (small ones merged
// into the last, so a typed character is not an entry of its own) and whole chunks fall off the
// front once the rest still covers the limit. Only a replay joins them.
const MERGE_BELOW = 4096;

export class Scrollback {
  private chunks: string[] = [];
  private size = 0;
  /** Whether anything was dropped: the held text then starts mid-line. */
  private cut = false;

  constructor(private readonly limit: number, initial = '') {
    if (initial) this.push(initial);
  }

  push(data: string): void {
    if (data.length > this.limit) {
      // One chunk bigger than the whole scrollback: only its tail can ever be replayed.
      this.chunks = [];
      this.size = 0;
      this.cut = true;
      data = data.slice(data.length - this.limit);
    }
    const last = this.chunks.length - 1;
    if (last >= 0 && this.chunks[last]!.length < MERGE_BELOW) this.chunks[last] += data;
    else this.chunks.push(data);
    this.size += data.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.limit) {
      this.size -= this.chunks.shift()!.length;
      this.cut = true;
    }
  }

  /** The last `limit` chars, cut at a line start so the replay doesn't begin mid escape sequence. */
  text(): string {
    let all = this.chunks.join('');
    if (this.cut || all.length > this.limit) {
      all = all.slice(Math.max(0, all.length - this.limit));
      const nl = all.indexOf('\n');
      if (nl !== -1 && nl < 4096) all = all.slice(nl + 1);
    }
    return all;
  }

  get length(): number {
    return Math.min(this.size, this.limit);
  }
}
