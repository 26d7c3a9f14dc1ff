// Production PtyProcess of the local transport: the server itself speaks dtach's attach protocol on
// the unix socket of the dtach master that holds the learner's shell inside the sandbox (bind-mounted
// on this host at ref.terminalSocket). No child process and no pty on this host: attaching forks
// nothing on the server's event loop, and output goes socket → string with one copy.
//
// The protocol, as dtach 0.9 speaks it (dtach.h, attach.c, master.c):
// - client → master: fixed-size packets. A type byte, a length byte, then a union the size of
//   `struct winsize` (four unsigned shorts: rows, cols, x pixels, y pixels, in the host's byte
//   order): 10 bytes. MSG_PUSH carries at most 8 bytes of input, its length in the length byte.
//   MSG_ATTACH makes this client receive output; MSG_REDRAW (method in the length byte) sets the
//   window size and, with the `winch` method, signals the shell so it redraws; MSG_WINCH only sets
//   the size. The master reads one packet per read(2) and never reassembles a partial one.
// - master → client: the pty's output bytes, nothing else. A client that closes its end is simply
//   forgotten (MSG_DETACH would only stop the output and keep the connection open).
// - Nothing is intercepted on the way in: no detach or suspend key (the old `dtach -a -E -z`).
import net from 'node:net';
import os from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { TUNING } from '../config.ts';
import type { PtyProcess } from './terminal.ts';

const MSG_PUSH = 0;
const MSG_ATTACH = 1;
const MSG_WINCH = 3;
const MSG_REDRAW = 4;
/** MSG_REDRAW's method: send the shell a SIGWINCH (the old `-r winch`). */
const REDRAW_WINCH = 3;
/** sizeof(struct winsize): the packet's union, and the most input one MSG_PUSH carries. */
export const PUSH_MAX = 8;
export const PACKET_BYTES = 2 + PUSH_MAX;
/**
 * Bytes handed to the kernel per write(2): whole packets, one write in flight at a time. A unix
 * stream write this small is one socket buffer, which the kernel takes whole or not at all, so the
 * master can never read half a packet (it would push garbage into the shell). A write of a whole
 * paste could be taken in part, cut inside a packet.
 */
export const WRITE_BYTES = PACKET_BYTES * 800;
/** Exit code for an attach that could not be made or that broke. */
const ATTACH_FAILED = 1;

/** Pure: `data` as MSG_PUSH packets, one buffer (zero padded, as dtach's own client sends them). */
export function pushPackets(data: Buffer): Buffer {
  const out = Buffer.alloc(Math.ceil(data.length / PUSH_MAX) * PACKET_BYTES);
  for (let i = 0, o = 0; i < data.length; i += PUSH_MAX, o += PACKET_BYTES) {
    const n = Math.min(PUSH_MAX, data.length - i);
    out[o] = MSG_PUSH;
    out[o + 1] = n;
    for (let k = 0; k < n; k++) out[o + 2 + k] = data[i + k]!;
  }
  return out;
}

/** Pure: a packet carrying a window size (MSG_WINCH, or MSG_REDRAW with `method`). */
export function sizePacket(type: number, cols: number, rows: number, method = 0): Buffer {
  const p = Buffer.alloc(PACKET_BYTES);
  p[0] = type;
  p[1] = method;
  const le = os.endianness() === 'LE';
  const put = (v: number, at: number) => (le ? p.writeUInt16LE(v, at) : p.writeUInt16BE(v, at));
  put(rows, 2);
  put(cols, 4);
  return p;
}

/** The terminal's size bounds (as the browser's resize is clamped); 0×0 or NaN becomes the minimum. */
function clamp(v: number, min: number, max: number): number {
  return Number.isFinite(v) ? Math.min(max, Math.max(min, Math.floor(v))) : min;
}

function reason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such socket (ENOENT)';
    case 'ECONNREFUSED':
      return 'nothing is listening on the socket (ECONNREFUSED)';
    case 'ENOTSOCK':
      return 'not a socket (ENOTSOCK)';
    case 'EACCES':
      return 'permission denied (EACCES)';
    default:
      return err.code ?? err.message;
  }
}

export function attachDtachSocket(socketPath: string, cols: number, rows: number): PtyProcess {
  const size = (c: number, r: number): [number, number] => [clamp(c, TUNING.minCols, TUNING.maxCols), clamp(r, TUNING.minRows, TUNING.maxRows)];
  // Bytes, not strings, come off the socket: a character split across two reads must not become
  // two replacement characters.
  const decoder = new StringDecoder('utf8');
  let sink: (d: string) => void = () => {};
  let exitFn: (code: number) => void = () => {};
  let exitCode: number | null = null;
  let connected = false;
  let attached = false;
  let killed = false;
  let closed = false;
  let writing = false;
  let failure: NodeJS.ErrnoException | null = null;
  // Attach, then the size with a SIGWINCH so the shell redraws; input and resizes queue behind them.
  const queue: Buffer[] = [Buffer.concat([sizePacket(MSG_ATTACH, 0, 0), sizePacket(MSG_REDRAW, ...size(cols, rows), REDRAW_WINCH)])];

  const sock = net.createConnection({ path: socketPath });

  /** Hands the next whole packets to the kernel once the previous write is all in. */
  const pump = () => {
    if (writing || !connected || closed || queue.length === 0) return;
    let chunk: Buffer;
    if (queue[0]!.length >= WRITE_BYTES) {
      chunk = queue[0]!.subarray(0, WRITE_BYTES);
      queue[0] = queue[0]!.subarray(WRITE_BYTES);
      if (queue[0].length === 0) queue.shift();
    } else {
      // Keystrokes typed while a write was in flight go out together.
      let n = 0;
      let k = 0;
      while (k < queue.length && n + queue[k]!.length <= WRITE_BYTES) n += queue[k++]!.length;
      chunk = k === 1 ? queue.shift()! : Buffer.concat(queue.splice(0, k), n);
    }
    writing = true;
    sock.write(chunk, (err) => {
      writing = false;
      if (err) return; // 'error' and 'close' follow
      if (!attached) {
        attached = true;
        // The attach is through: tell the terminal even though the shell has nothing to say (what
        // the old client's screen clear, dropped, used to tell it).
        if (!killed) sink('');
      }
      pump();
    });
  };
  const send = (b: Buffer) => {
    if (killed || closed || b.length === 0) return;
    queue.push(b);
    pump();
  };

  sock.on('connect', () => {
    connected = true;
    pump();
  });
  sock.on('data', (b: Buffer) => {
    if (killed) return;
    const text = decoder.write(b);
    if (text !== '') sink(text);
  });
  sock.on('error', (err: NodeJS.ErrnoException) => {
    failure ??= err;
  });
  sock.on('close', () => {
    closed = true;
    queue.length = 0;
    if (killed) return;
    const tail = decoder.end();
    if (tail !== '') sink(tail);
    // An attach that fails says why, as dtach's own client printed it; a master that ends (the
    // shell exited) needs no words: the terminal says the shell ended.
    if (failure) {
      sink(connected
        ? `\r\n[the connection to the shell broke: ${reason(failure)}]\r\n`
        : `[could not attach to the shell: ${reason(failure)}]\r\n`);
    }
    exitCode = ATTACH_FAILED;
    exitFn(exitCode);
  });

  return {
    onData: (fn) => void (sink = fn),
    onExit: (fn) => {
      exitFn = fn;
      if (exitCode !== null) fn(exitCode);
    },
    write: (d) => send(pushPackets(Buffer.from(d, 'utf8'))),
    resize: (c, r) => send(sizePacket(MSG_WINCH, ...size(c, r))),
    // Stops reading the socket: the master then waits (and stops reading the shell's pty) until we
    // read again, so a slow browser holds up the shell instead of growing the server's memory.
    pause: () => void sock.pause(),
    resume: () => void sock.resume(),
    kill: () => {
      if (killed) return;
      killed = true;
      queue.length = 0;
      // Closing our end is the detach: the master forgets this client and keeps the shell.
      sock.destroy();
    },
  };
}
