// Drives one sandbox shell the way a learner does: types a block, waits for the prompt to come back
// with the output gone quiet, and hands back what the block printed. The terminal is behind a narrow
// interface so the timing logic is tested without Docker.
import { stripAnsi } from './ansi.ts';
import { AUTOPILOT } from './tuning.ts';
import { pasteKeys, parseStatus, STATUS_PROBE } from './paste.ts';
import { endsWithPrompt, SANDBOX_PROMPT, withoutTrailingPrompt } from './prompt.ts';

/** What the shell needs from a terminal: a way to type. Output arrives through ShellSession.push(). */
export interface Keyboard {
  input(data: string): void;
}

export interface BlockOutcome {
  /** Plain text the block printed (its echo included), without the final prompt. */
  output: string;
  /** Exit status of the block's last command; null when it timed out or the probe got no answer. */
  exitCode: number | null;
  timedOut: boolean;
  ms: number;
}

export interface ShellOptions {
  quietMs?: number;
  prompt?: RegExp;
  now?: () => number;
}

export class ShellSession {
  private raw = '';
  private lastDataAt = 0;
  private failure: string | null = null;
  private wake: (() => void) | null = null;
  private readonly quietMs: number;
  private readonly prompt: RegExp;
  private readonly now: () => number;

  constructor(private readonly keyboard: Keyboard, opts: ShellOptions = {}) {
    this.quietMs = opts.quietMs ?? AUTOPILOT.quietMs;
    this.prompt = opts.prompt ?? SANDBOX_PROMPT;
    this.now = opts.now ?? Date.now;
  }

  /** Everything the terminal printed so far, escapes removed. */
  get transcript(): string {
    return stripAnsi(this.raw);
  }

  /** Feed terminal output here. */
  push(data: string): void {
    this.raw += data;
    this.lastDataAt = this.now();
    this.wake?.();
  }

  /** The terminal gave up (sandbox gone): every wait ends with this message. */
  fail(message: string): void {
    this.failure = message;
    this.wake?.();
  }

  /** Waits for the first prompt of a fresh shell. */
  async ready(timeoutMs: number = AUTOPILOT.shellReadyTimeoutMs): Promise<void> {
    if (!(await this.waitForPrompt(0, timeoutMs))) {
      throw new Error(`the shell printed no prompt within ${timeoutMs / 1000} s; it printed: ${JSON.stringify(this.transcript.slice(-200))}`);
    }
  }

  /** Types `code` as a clicked block, waits for it to finish and asks the shell for its exit status. */
  async run(code: string, timeoutMs: number = AUTOPILOT.blockTimeoutMs): Promise<BlockOutcome> {
    const started = this.now();
    const from = this.raw.length;
    this.keyboard.input(pasteKeys(code));
    const done = await this.waitForPrompt(from, timeoutMs);
    // From the start of the prompt line the block was typed on: readline redraws that line.
    const output = withoutTrailingPrompt(this.raw.slice(this.lineStart(from)), this.prompt);
    const ms = this.now() - started;
    if (!done) {
      // Give the shell back like a learner would, so the next block still runs.
      this.keyboard.input('\x03');
      await this.waitForPrompt(this.raw.length, AUTOPILOT.interruptGraceMs);
      return { output, exitCode: null, timedOut: true, ms };
    }
    const probeFrom = this.raw.length;
    this.keyboard.input(STATUS_PROBE);
    const answered = await this.waitForPrompt(probeFrom, AUTOPILOT.shellReadyTimeoutMs);
    const exitCode = answered ? parseStatus(stripAnsi(this.raw.slice(probeFrom))) : null;
    return { output, exitCode, timedOut: false, ms };
  }

  private lineStart(at: number): number {
    return this.raw.lastIndexOf('\n', at - 1) + 1;
  }

  /**
   * Resolves true once output after `from` ends with a prompt and has been quiet for quietMs,
   * false after timeoutMs. Throws when the terminal failed.
   */
  private async waitForPrompt(from: number, timeoutMs: number): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    for (;;) {
      if (this.failure) throw new Error(this.failure);
      const now = this.now();
      const quietFor = now - this.lastDataAt;
      const atPrompt = this.raw.length > from && endsWithPrompt(this.raw.slice(this.lineStart(from)), this.prompt);
      if (atPrompt && quietFor >= this.quietMs) return true;
      if (now >= deadline) return false;
      // Sleep until the quiet period would end, new output arrives, or the deadline.
      const wait = atPrompt ? this.quietMs - quietFor : deadline - now;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(1, Math.min(wait, deadline - now)));
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = null;
    }
  }
}
