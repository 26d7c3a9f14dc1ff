// One xterm.js terminal in the page, wired to the server with ack-based flow control.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { AckCounter } from '../../server/protocol/ack-counter.ts';
import type { InputMode } from './run-queue.ts';
import type { TermState } from '../../server/protocol/realtime.ts';

/** What a terminal's state line says (lab pages and playgrounds alike). */
export const TERM_STATE_TEXT: Record<TermState, string> = { starting: 'starting…', ready: 'connected', reconnecting: 'reconnecting…', exited: 'exited', failed: 'disconnected' };

export interface TerminalPaneDeps {
  term: number;
  el: HTMLElement;
  ackEvery: number;
  maxInputChunk: number;
  maxPasteBytes: number;
  send(data: string): void;
  resize(cols: number, rows: number): void;
  ack(chars: number): void;
  notice(message: string): void;
  /** What the shell is doing, as the screen shows it (see run-queue.ts). */
  shell?: { prompt(): void; busy(): void; output(): void };
}

/**
 * The sandbox's bash marks its prompt with OSC 133;A and an accepted command line with OSC 133;C
 * (sandbox/image/skel/.bashrc). Continuation prompts (PS2, inside a here-document) carry no mark,
 * so they do not count as "ready for the next block".
 */
const SHELL_MARK = 133;

export class TerminalPane {
  readonly xterm: Terminal;
  private readonly fit = new FitAddon();
  private readonly acks: AckCounter;
  private lastSize = '';
  /** The last shell mark parsed and not yet reported; reported once its whole chunk is on screen. */
  private mark: 'prompt' | 'busy' | undefined;

  constructor(private readonly deps: TerminalPaneDeps) {
    this.acks = new AckCounter(deps.ackEvery);
    this.xterm = new Terminal({
      cursorBlink: true,
      fontFamily: '"DejaVu Sans Mono", "Cascadia Mono", Menlo, Consolas, monospace',
      fontSize: 14,
      // At 1.0 the DOM renderer's rows clip DejaVu Sans Mono's underscore (CGO_ENABLED read as
      // CGO ENABLED); 1.15 leaves its ink inside the row (e2e/underscore-ink.ts measures it).
      lineHeight: 1.15,
      scrollback: 5000,
      theme: { background: '#0f1720', foreground: '#e6edf3', cursor: '#7dd3fc', selectionBackground: '#335070' },
      allowProposedApi: false,
    });
    this.xterm.loadAddon(this.fit);
    this.xterm.loadAddon(new WebLinksAddon((_e, uri) => window.open(uri, '_blank', 'noopener')));
    this.xterm.open(deps.el);
    this.xterm.onData((d) => this.input(d));
    this.xterm.parser.registerOscHandler(SHELL_MARK, (data) => {
      if (data.startsWith('A')) this.mark = 'prompt';
      else if (data.startsWith('C')) this.mark = 'busy';
      return true;
    });
    // Selecting text copies it, as in most Linux terminals.
    this.xterm.onSelectionChange(() => {
      const sel = this.xterm.getSelection();
      if (sel) void navigator.clipboard?.writeText(sel).catch(() => {});
    });
    this.xterm.attachCustomKeyEventHandler((e) => {
      // Ctrl+Shift+C / Ctrl+Shift+V: leave them to the browser's copy and paste.
      if (e.ctrlKey && e.shiftKey && (e.code === 'KeyC' || e.code === 'KeyV')) return false;
      return true;
    });
    new ResizeObserver(() => this.refit()).observe(deps.el);
    this.refit();
  }

  /** Sends keystrokes or a paste, split into pieces the server accepts. */
  input(data: string): void {
    if (data.length > this.deps.maxPasteBytes) {
      this.deps.notice(`That paste is ${(data.length / 1e6).toFixed(1)} MB; the terminal takes at most ${(this.deps.maxPasteBytes / 1e6).toFixed(0)} MB at once. Nothing was sent. Split it, or put large files in the lab folder.`);
      return;
    }
    for (let i = 0; i < data.length; i += this.deps.maxInputChunk) this.deps.send(data.slice(i, i + this.deps.maxInputChunk));
  }

  /**
   * Types a block and presses Enter. At a prompt it goes in as a paste, so the shell takes tabs and
   * newlines literally (no tab completion in a here-document) and runs the whole block on the final
   * Enter. Otherwise ("type") it is plain keystrokes, whatever paste mode the screen was left in: a
   * program that is not at a prompt would echo the paste brackets as ^[[200~ (run-queue.ts decides).
   */
  run(code: string, mode: InputMode = 'paste'): void {
    if (mode === 'paste') this.xterm.paste(code);
    else this.input(code.replace(/\r?\n/g, '\r'));
    this.input('\r');
  }

  write(data: string): void {
    this.deps.shell?.output();
    this.xterm.write(data, () => {
      const n = this.acks.rendered(data.length);
      if (n) this.deps.ack(n);
      this.reportMark();
    });
  }

  /** Replaces the screen with scrollback; what it ends on (a prompt or a running command) is reported once. */
  replay(data: string): void {
    this.xterm.reset();
    this.mark = undefined;
    this.xterm.write(data, () => {
      const n = this.acks.rendered(data.length);
      if (n) this.deps.ack(n);
      this.reportMark();
    });
  }

  private reportMark(): void {
    // After the chunk is parsed, so readline's switch into bracketed paste (sent with the prompt)
    // is in effect when the next block is pasted.
    const m = this.mark;
    this.mark = undefined;
    if (m === 'prompt') this.deps.shell?.prompt();
    else if (m === 'busy') this.deps.shell?.busy();
  }

  refit(): void {
    if (!this.deps.el.isConnected || this.deps.el.clientWidth === 0 || this.deps.el.clientHeight === 0) return;
    try {
      this.fit.fit();
    } catch {
      return; // not laid out yet; the ResizeObserver will call again
    }
    const size = `${this.xterm.cols}x${this.xterm.rows}`;
    if (size !== this.lastSize) {
      this.lastSize = size;
      this.deps.resize(this.xterm.cols, this.xterm.rows);
    }
  }

  /** Forces the next refit to report its size (after a reconnect the server may have forgotten it). */
  resendSize(): void {
    this.lastSize = '';
    this.refit();
  }

  focus(): void {
    this.xterm.focus();
  }
}
