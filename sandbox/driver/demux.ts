// Docker's multiplexed exec/attach stream: 8-byte header (stream type, 3 zero bytes, uint32 BE length),
// then the payload. Pure, so the output cap and framing are unit-tested without an engine.
import { Transform } from 'node:stream';

/** Collects stdout/stderr from a multiplexed stream, keeping at most `maxBytes` per stream. */
export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);
  private readonly out: Buffer[][] = [[], [], []];
  private readonly kept = [0, 0, 0];
  /** Bytes dropped per stream because of the cap. */
  readonly dropped = [0, 0, 0];

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const type = this.pending[0]!;
      const len = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + len) break;
      const payload = this.pending.subarray(8, 8 + len);
      this.pending = this.pending.subarray(8 + len);
      this.keep(type <= 2 ? type : 1, payload);
    }
  }

  private keep(stream: number, payload: Buffer): void {
    const room = this.maxBytes - this.kept[stream]!;
    const take = Math.max(0, Math.min(room, payload.length));
    if (take > 0) {
      this.out[stream]!.push(Buffer.from(payload.subarray(0, take)));
      this.kept[stream]! += take;
    }
    this.dropped[stream]! += payload.length - take;
  }

  stdout(): string {
    return Buffer.concat(this.out[1]!).toString('utf8');
  }

  stderr(): string {
    return Buffer.concat(this.out[2]!).toString('utf8');
  }
}

/** Frames a payload the way the engine does (for tests). */
export function frame(stream: 1 | 2, data: string | Buffer): Buffer {
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** Streams the stdout payloads of a multiplexed stream (stderr is dropped), for byte relays. */
export function stdoutOf(): Transform {
  let pending: Buffer = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 8) {
        const len = pending.readUInt32BE(4);
        if (pending.length < 8 + len) break;
        if (pending[0] === 1) this.push(Buffer.from(pending.subarray(8, 8 + len)));
        pending = pending.subarray(8 + len);
      }
      done();
    },
  });
}
