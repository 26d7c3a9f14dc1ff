// One learner terminal: a pty attached to the shell in a sandbox, shared by every browser tab
// that shows it. It owns flow control, output batching, scrollback and re-attaching when the
// shell exits or the attach process dies.
import { FlowControl } from '../realtime/flow-control.ts';
import { OutputBatcher, realTimers, type Timers } from './output-batcher.ts';
import { Scrollback } from './scrollback.ts';
import { TUNING } from '../config.ts';
import type { TermState } from '../protocol/realtime.ts';

/** The narrow view of a pty process (dtach-socket.ts, dtach-pty.ts under node-pty, or exec-attach.ts in production). */
export interface PtyProcess {
  onData(fn: (data: string) => void): void;
  onExit(fn: (code: number) => void): void;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  kill(): void;
}

export interface Viewer {
  id: string;
  data(data: string): void;
  replay(data: string): void;
  state(state: TermState, message?: string): void;
}

export interface TerminalDeps {
  /** Starts a process attached to the sandbox shell. */
  spawn(cols: number, rows: number): PtyProcess;
  /** Makes sure the sandbox shell exists (starts a new one after `exit`). Rejects if the sandbox is gone. */
  ensureShell(): Promise<void>;
  /** Scrollback kept by an earlier server process, and where new output is kept. */
  scrollback: { load(): string; append(data: string): void; close?(): void };
  /** Called with every chunk of output (for check triggers such as "a prompt came back"). */
  onOutput?(data: string): void;
  /** Called with the time from a keystroke reaching the pty to the first output after it (the echo a learner waits for). */
  onEcho?(ms: number): void;
  log?(msg: string, err?: unknown): void;
  /** The server passes its own (sessions/runtime.ts); the autopilot CLI, its own composition root, keeps the real clock. */
  timers?: Timers;
}

const MAX_REATTACH = 5;

export class Terminal {
  private pty: PtyProcess | null = null;
  private readonly viewers = new Map<string, Viewer>();
  private readonly flow: FlowControl;
  private readonly batcher: OutputBatcher;
  private readonly scrollback: Scrollback;
  private cols = 80;
  private rows = 24;
  private disposed = false;
  private failures = 0;
  private stateNow: TermState = 'starting';
  /** When the keystroke still waiting for its echo was written (null: none waiting). */
  private echoFrom: number | null = null;
  private readonly timers: Timers;

  constructor(private readonly deps: TerminalDeps) {
    this.timers = deps.timers ?? realTimers;
    this.scrollback = new Scrollback(TUNING.scrollbackBytes, safeLoad(deps));
    this.flow = new FlowControl({ high: TUNING.flowHighWatermark, low: TUNING.flowLowWatermark }, (paused) => {
      if (paused) this.pty?.pause();
      else this.pty?.resume();
    });
    // Kept on disk when it is sent, batch by batch: one write per batch instead of one per chunk
    // read from the shell, and nothing a viewer saw is missing from a replay after a restart.
    this.batcher = new OutputBatcher((d) => (this.persist(d), this.broadcast(d)), {
      batchMs: TUNING.outputBatchMs,
      echoWindowMs: TUNING.echoWindowMs,
      maxBatchChars: 64 * 1024,
    }, this.timers);
  }

  get state(): TermState {
    return this.stateNow;
  }

  start(): void {
    // Nothing on screen yet means a brand-new shell whose first prompt nobody saw.
    void this.attachPty(this.scrollback.length === 0);
  }

  addViewer(v: Viewer): void {
    this.viewers.set(v.id, v);
    this.batcher.flush(); // the replay below must include everything sent so far
    v.replay(this.scrollback.text());
    v.state(this.stateNow);
    this.flow.addViewer(v.id);
  }

  removeViewer(id: string): void {
    this.viewers.delete(id);
    this.flow.removeViewer(id);
  }

  input(data: string): void {
    if (!this.pty) return;
    this.batcher.inputSent();
    // A keystroke (not a paste or a clicked block) is timed until the shell's first output after it.
    if (this.echoFrom === null && data.length <= 4) this.echoFrom = this.timers.now();
    this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    if (cols === this.cols && rows === this.rows) return;
    this.cols = cols;
    this.rows = rows;
    try {
      this.pty?.resize(cols, rows);
    } catch (err) {
      // A resize racing the process exit is harmless: the next attach uses the new size.
      this.deps.log?.('resize after exit ignored', err);
    }
  }

  ack(viewerId: string, chars: number): void {
    this.flow.acked(viewerId, chars);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.batcher.flush();
    this.batcher.dispose();
    const p = this.pty;
    this.pty = null;
    p?.kill();
    this.viewers.clear();
    this.deps.scrollback.close?.();
  }

  private setState(s: TermState, message?: string): void {
    this.stateNow = s;
    for (const v of this.viewers.values()) v.state(s, message);
  }

  private async attachPty(freshShell: boolean): Promise<void> {
    if (this.disposed) return;
    try {
      await this.deps.ensureShell();
    } catch (err) {
      this.deps.log?.('shell unavailable', err);
      this.setState('failed', 'The sandbox is not running any more. Reload the page to start a new one.');
      return;
    }
    if (this.disposed) return;
    const pty = this.deps.spawn(this.cols, this.rows);
    this.pty = pty;
    const startedAt = this.timers.now();
    let greeted = !freshShell;
    /** What the shell echoes for that Enter: kept off the screen, or every terminal opens on a blank line. */
    let echo = '';
    pty.onData((d) => {
      if (this.pty !== pty) return;
      // A shell that started before we attached printed its first prompt to no one, and with it
      // the switch into bracketed-paste mode that lets clicked blocks go in literally. An Enter on
      // the empty command line makes it print a fresh one. Sent once dtach is attached (its first
      // output), so the host pty is already raw and does not echo it.
      if (!greeted) {
        greeted = true;
        echo = '\r\n';
        pty.write('\r');
      }
      if (echo && d) [echo, d] = dropEcho(echo, d);
      if (d === '') return;
      if (this.echoFrom !== null) {
        this.deps.onEcho?.(this.timers.now() - this.echoFrom);
        this.echoFrom = null;
      }
      this.failures = 0;
      if (this.stateNow !== 'ready') this.setState('ready');
      this.scrollback.push(d);
      this.flow.sent(d.length);
      this.batcher.push(d);
      this.deps.onOutput?.(d);
    });
    pty.onExit(() => {
      if (this.pty !== pty) return;
      // Output can still arrive just after exit; wait briefly before re-attaching.
      this.timers.setTimeout(() => this.onPtyExit(pty, startedAt), 250);
    });
    // An attach to an existing shell prints nothing until something happens; it is ready now.
    this.timers.setTimeout(() => {
      if (this.pty === pty && this.stateNow !== 'ready') this.setState('ready');
    }, 300);
    if (this.flow.isPaused) pty.pause();
  }

  private onPtyExit(pty: PtyProcess, startedAt: number): void {
    if (this.pty !== pty || this.disposed) return;
    this.pty = null;
    this.batcher.flush();
    if (this.timers.now() - startedAt < 2_000) this.failures++;
    if (this.failures >= MAX_REATTACH) {
      this.setState('failed', 'The terminal could not attach to the sandbox shell. Reload the page; if that fails, end the session and start again.');
      return;
    }
    const note = '\r\n\x1b[2m[the shell ended; starting a new one]\x1b[0m\r\n';
    this.scrollback.push(note);
    this.persist(note);
    this.broadcast(note);
    this.setState('reconnecting');
    this.timers.setTimeout(() => void this.attachPty(true), 200 * 2 ** this.failures);
  }

  private broadcast(data: string): void {
    for (const v of this.viewers.values()) v.data(data);
  }

  private persist(data: string): void {
    try {
      this.deps.scrollback.append(data);
    } catch (err) {
      // Losing scrollback only costs replay after a restart; the shell itself is unaffected.
      this.deps.log?.('scrollback not saved', err);
    }
  }
}

function safeLoad(deps: TerminalDeps): string {
  try {
    return deps.scrollback.load();
  } catch {
    return ''; // a corrupt snapshot is not worth failing the terminal over
  }
}

/** Drops the start of `data` that matches the `echo` still expected; returns what is still expected and what is left. */
export function dropEcho(echo: string, data: string): [string, string] {
  let i = 0;
  while (i < echo.length && i < data.length && echo[i] === data[i]) i++;
  // A mismatch means the shell said something else first: expect nothing more.
  return [i === data.length ? echo.slice(i) : '', data.slice(i)];
}
