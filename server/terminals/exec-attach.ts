// PtyProcess over the engine API: the sandbox's own dtach client in an exec with a TTY (see
// sandbox/driver/shell-attach.ts). The counterpart of dtach-socket.ts for sandboxes whose socket
// directory is not on this host. The stream opens asynchronously; what the terminal asks before
// that (input, a resize, a pause, a kill) is held and applied once it is open.
import { StringDecoder } from 'node:string_decoder';
import type { ShellStream } from '../../sandbox/driver/types.ts';
import type { PtyProcess } from './terminal.ts';
import { createAttachClearFilter } from './attach-clear.ts';

/** Exit code reported when the attach could not be opened, or the engine did not say. */
const ATTACH_FAILED = 1;

export interface ExecAttachOptions {
  /** Opens the attach at this size (SandboxShell.attachShell for one sandbox). */
  open(cols: number, rows: number): Promise<ShellStream>;
  log?(msg: string, err?: unknown): void;
}

export function spawnExecAttach(opts: ExecAttachOptions, cols: number, rows: number): PtyProcess {
  const log = opts.log ?? (() => {});
  // Bytes, not strings, come from the engine: a character split across two chunks must not
  // become two replacement characters.
  const decoder = new StringDecoder('utf8');
  let stream: ShellStream | null = null;
  let killed = false;
  let paused = false;
  let exited = false;
  let pendingSize: [number, number] | null = null;
  const pendingInput: string[] = [];
  let sink: (d: string) => void = () => {};
  let exitFn: (code: number) => void = () => {};
  let exitCode: number | null = null;

  // The attach clear would wipe the scrollback the page has just replayed: drop it from the head.
  const head = createAttachClearFilter((d) => sink(d));
  const text = (d: string) => {
    if (d === '') return; // the decoder holding back part of a character
    head.push(d);
  };
  const exit = (code: number) => {
    if (exited) return;
    exited = true;
    text(decoder.end());
    head.flush(); // an attach that fails prints a short error and exits: show it
    exitCode = code;
    exitFn(code);
  };

  const resizeNow = (s: ShellStream, c: number, r: number) =>
    s.resize(c, r).catch((err) => log('resize not applied (the attach is ending)', err));

  opts.open(cols, rows).then(
    (s) => {
      if (killed) {
        void s.close().catch(() => {});
        return;
      }
      stream = s;
      s.onData((b) => text(decoder.write(b)));
      s.onEnd((code) => exit(code ?? ATTACH_FAILED));
      for (const d of pendingInput.splice(0)) s.write(d);
      if (pendingSize) void resizeNow(s, ...pendingSize);
      if (paused) s.pause();
    },
    (err) => {
      log('could not attach to the shell through the engine', err);
      exit(ATTACH_FAILED);
    },
  );

  return {
    onData: (fn) => void (sink = fn),
    onExit: (fn) => {
      exitFn = fn;
      if (exitCode !== null) fn(exitCode);
    },
    write: (d) => {
      if (killed || exited) return;
      if (stream) stream.write(d);
      else pendingInput.push(d);
    },
    resize: (c, r) => {
      if (stream) void resizeNow(stream, c, r);
      else pendingSize = [c, r];
    },
    pause: () => {
      paused = true;
      stream?.pause();
    },
    resume: () => {
      paused = false;
      stream?.resume();
    },
    kill: () => {
      if (killed) return;
      killed = true;
      // Ending the attach client is an exec of its own; the terminal does not wait for it.
      void stream?.close().catch((err) => log('attach not closed cleanly', err));
    },
  };
}
