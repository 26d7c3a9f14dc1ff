// A learner as the web app is one, over socket.io, for benchmarks: it opens a lab page (its cookie),
// joins, reads its terminal until the prompt, types a block as a click does (a bracketed paste, then
// Enter, with `block:ran`), acks output as a browser that renders at once, and follows check ticks.
import { io, type Socket } from 'socket.io-client';
import type { CheckView, ClientToServer, ServerToClient } from '../protocol/realtime.ts';
import { TUNING } from '../config.ts';

// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[a-zA-Z]|\x1b\][^\x07]*\x07/g, '').replace(/\r/g, '');
/** The sandbox image's prompt (PS1 `[\h] $PWD $ `), at the end of what was printed. */
const PROMPT_AT_END = /\[node1\] [^\n]*[$#] $/;

/** What a click types: xterm's paste (newlines as CR, in bracketed-paste brackets), then Enter. */
export function clickInput(code: string): string[] {
  return [`\x1b[200~${code.replace(/\r?\n/g, '\r')}\x1b[201~`, '\r'];
}

export class LabClient {
  readonly socket: Socket<ServerToClient, ClientToServer>;
  /** Every check's latest view, by id. */
  readonly checks = new Map<string, CheckView>();
  private screen = '';
  private unacked = 0;
  private watchers = new Set<() => void>();
  private failed: string | undefined;

  private constructor(url: string, cookie: string) {
    this.socket = io(url, { transports: ['websocket'], extraHeaders: { cookie, origin: url }, forceNew: true });
    const seen = (data: string) => {
      this.screen = (this.screen + data).slice(-20_000);
      this.seenChars += data.length;
      // A browser acks what it rendered; rendering at once is the fast-browser case.
      this.unacked += data.length;
      if (this.unacked >= TUNING.flowAckEvery) {
        const n = this.unacked;
        this.unacked = 0;
        setImmediate(() => this.socket.emit('term:ack', { term: 1, chars: n }));
      }
      this.notify();
    };
    this.socket.on('term:replay', ({ data }) => seen(data));
    this.socket.on('term:data', ({ data }) => seen(data));
    this.socket.on('check:update', (views) => {
      for (const v of views) this.checks.set(v.id, v);
      this.notify();
    });
    this.socket.on('session:update', (v) => {
      if (v.phase === 'failed' || v.phase === 'ended' || v.phase === 'expired') {
        this.failed = `session ${v.phase}: ${v.message ?? ''}`;
        this.notify();
      }
    });
  }

  private notify(): void {
    for (const w of [...this.watchers]) w();
  }

  /** Resolves when `pred` holds (checked at once and on every output, tick or phase change). */
  waitFor(what: string, pred: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.failed) return done(new Error(`${what}: ${this.failed}`));
        if (pred()) done();
      };
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.watchers.delete(check);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => done(new Error(`${what}: not in ${timeoutMs / 1000} s; screen ends ${JSON.stringify(stripAnsi(this.screen).slice(-200))}`)), timeoutMs);
      this.watchers.add(check);
      check();
    });
  }

  /** Whether the terminal's output after position `mark` (see `mark()`) ends at a prompt. */
  promptSince(mark: number): boolean {
    const start = this.seenChars - this.screen.length; // stream position of screen[0]
    return PROMPT_AT_END.test(stripAnsi(this.screen.slice(Math.max(0, mark - start))));
  }

  /** The output after position `mark`, escapes and all (as much of it as is kept). */
  outputSince(mark: number): string {
    const start = this.seenChars - this.screen.length;
    return this.screen.slice(Math.max(0, mark - start));
  }

  /** Characters of output seen so far. */
  private seenChars = 0;

  /** A position in the output stream; output after it is what `promptSince` looks at. */
  mark(): number {
    return this.seenChars;
  }

  /** Opens the lab page (a new learner: no cookie yet), joins, and waits for the first prompt. */
  static async open(url: string, labId: string, timeoutMs = 300_000): Promise<LabClient> {
    const res = await fetch(`${url}/labs/${labId}`);
    await res.text();
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    const c = new LabClient(url, cookie);
    try {
      await new Promise<void>((resolve, reject) => {
        const join = () =>
          c.socket.emit('session:join', { labId }, (r) => {
            if (!r.ok) return reject(new Error(`join failed: ${r.error.message}`));
            for (const v of r.value.checks) if (!c.checks.has(v.id)) c.checks.set(v.id, v);
            resolve();
          });
        if (c.socket.connected) join();
        else c.socket.once('connect', join);
        c.socket.once('connect_error', (e) => reject(e));
      });
      await c.waitFor('first prompt', () => c.promptSince(0), timeoutMs);
    } catch (err) {
      c.close();
      throw err;
    }
    return c;
  }

  /** Clicks a block: `block:ran`, the paste and Enter; resolves when the prompt is back (ms since the click). */
  async click(stepId: string, code: string, timeoutMs = 600_000): Promise<number> {
    const t0 = performance.now();
    const m = this.mark();
    this.socket.emit('block:ran', { stepId });
    for (const data of clickInput(code)) this.type(data);
    // The echo of the paste never ends at a prompt; the prompt after the command's output does.
    await this.waitFor(`prompt after ${JSON.stringify(code.slice(0, 40))}`, () => this.mark() > m && this.promptSince(m), timeoutMs);
    return performance.now() - t0;
  }

  /** Sends keystrokes (split as the browser splits a paste). */
  type(data: string): void {
    for (let i = 0; i < data.length; i += TUNING.maxInputChunk) this.socket.emit('term:input', { term: 1, data: data.slice(i, i + TUNING.maxInputChunk) });
  }

  /** Resolves when every check of the step passes. */
  stepPassed(stepId: string, timeoutMs = 600_000): Promise<void> {
    const mine = () => [...this.checks.values()].filter((v) => v.stepId === stepId);
    return this.waitFor(`checks of ${stepId}`, () => mine().length > 0 && mine().every((v) => v.status === 'pass'), timeoutMs);
  }

  /** Whether every check the lab has passes. */
  allPassed(): boolean {
    return this.checks.size > 0 && [...this.checks.values()].every((v) => v.status === 'pass');
  }

  /** Leaves as a learner does: ends the session (its sandbox goes), then closes the page. */
  async leave(): Promise<void> {
    if (this.socket.connected) await new Promise<void>((r) => {
      const t = setTimeout(r, 30_000);
      this.socket.emit('session:end', {}, () => {
        clearTimeout(t);
        r();
      });
    });
    this.close();
  }

  close(): void {
    this.watchers.clear();
    this.socket.close();
  }
}
