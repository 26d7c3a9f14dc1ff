// The order in which clicked blocks reach one terminal. Pure: the page feeds it what the terminal
// shows (attached, a prompt, a command running, output) and it decides when to type the next block.
//
// A click is never dropped. Before the shell has shown its first prompt, and while an earlier block
// is still running, blocks wait in click order. The sandbox's bash marks each prompt (and each
// accepted command line) with an invisible OSC 133 sequence; a here-document's continuation lines
// carry none. A program without the marks (an `sh` inside an inner container) would hold the queue
// forever, so after `quietMs` without output the next block is typed anyway, as a person would;
// clicking a queued block sends it at once.
//
// How a block goes in depends on what it goes into. At a prompt it is a bracketed paste, so bash
// takes tabs and newlines literally. Anywhere else (a program still starting, an `sh` in a
// container) it is typed as plain keystrokes: a program that is not a shell at its prompt would
// show the paste's ESC[200~ … ESC[201~ brackets as text.

export interface QueuedBlock {
  /** Stable within the page (the block's id), so a reload can restore the queue. */
  key: string;
  code: string;
  stepId?: string;
  /** Killercoda's {{exec interrupt}}: meant to stop what runs, so it does not wait its turn. */
  interrupt?: boolean;
}

export type ShellState =
  /** No attached shell (starting, reconnecting). Nothing can be typed. */
  | 'detached'
  /** Attached, no prompt seen yet. */
  | 'waiting'
  /** Readline is waiting for a line. */
  | 'prompt'
  /** A command (or a block we typed) is running. */
  | 'busy';

/** "paste": a bracketed paste at a shell's prompt; "type": plain keystrokes, Enter per line. */
export type InputMode = 'paste' | 'type';

/** Bracketed paste only at a prompt the shell marked as one; plain typing anywhere else. */
export function inputModeFor(shell: ShellState): InputMode {
  return shell === 'prompt' ? 'paste' : 'type';
}

export interface QueueTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface RunQueueDeps {
  /** Types the block into the terminal and presses Enter, as a paste or as plain keystrokes. */
  send(block: QueuedBlock, mode: InputMode): void;
  /** Something about the queue or the shell state changed (re-render badges). */
  changed(): void;
  timers: QueueTimers;
  /** Output silence after which a waiting block is typed although no prompt came (see above). */
  quietMs: number;
}

export class RunQueue {
  private readonly pending: QueuedBlock[] = [];
  private shell: ShellState = 'detached';
  private timer: unknown;
  private promptOnScreen = false;

  constructor(private readonly deps: RunQueueDeps) {}

  get state(): ShellState {
    return this.shell;
  }

  /** Blocks waiting, in the order they will run. */
  get queued(): readonly QueuedBlock[] {
    return this.pending;
  }

  click(block: QueuedBlock): void {
    const at = this.pending.findIndex((b) => b.key === block.key);
    if (at >= 0) {
      // A second click on a queued block: the learner wants it now (e.g. an interactive program
      // that shows no prompt). Typed at once if a shell is attached; otherwise it just stays queued.
      if (this.shell === 'detached') return;
      const [b] = this.pending.splice(at, 1);
      this.typeNow(b!);
      return;
    }
    if (block.interrupt && this.shell !== 'detached') {
      this.typeNow(block);
      return;
    }
    this.pending.push(block);
    this.pump();
    if (this.pending.length && this.timer === undefined && (this.shell === 'waiting' || this.shell === 'busy')) this.armQuiet();
    this.deps.changed();
  }

  attached(): void {
    if (this.shell !== 'detached') return;
    this.setShell('waiting');
    if (this.promptOnScreen) return this.prompt();
    this.armQuiet();
  }

  detached(): void {
    this.disarm();
    this.promptOnScreen = false;
    this.setShell('detached');
  }

  prompt(): void {
    // A prompt replayed from scrollback while detached only says what the screen shows: nothing
    // can be typed until the terminal is attached again.
    if (this.shell === 'detached') {
      this.promptOnScreen = true;
      return;
    }
    this.disarm();
    this.setShell('prompt');
    this.pump();
  }

  busy(): void {
    if (this.shell === 'detached') {
      this.promptOnScreen = false;
      return;
    }
    this.setShell('busy');
    this.armQuiet();
  }

  /** The terminal printed something: a program that prints is not waiting for input yet. */
  output(): void {
    if (this.shell === 'waiting' || this.shell === 'busy') this.armQuiet();
  }

  dispose(): void {
    this.disarm();
  }

  private pump(): void {
    if (this.shell !== 'prompt') return;
    const next = this.pending.shift();
    if (next) this.typeNow(next);
  }

  private typeNow(block: QueuedBlock): void {
    const mode = inputModeFor(this.shell);
    this.setShell('busy');
    this.deps.send(block, mode);
    this.armQuiet();
    this.deps.changed();
  }

  private armQuiet(): void {
    this.disarm();
    if (!this.pending.length) return;
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = undefined;
      if (this.shell === 'waiting' || this.shell === 'busy') {
        const next = this.pending.shift();
        if (next) this.typeNow(next);
      }
    }, this.deps.quietMs);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private setShell(s: ShellState): void {
    if (this.shell === s) return;
    this.shell = s;
    this.deps.changed();
  }
}
