// Production PtyProcess: the host's `dtach` client, run under node-pty, attached to the dtach
// master that holds the learner's shell inside the sandbox (a unix socket in the sandbox's
// bind-mounted run directory). The shell lives in the sandbox, so it survives page reloads
// and server restarts; this process is only the wire.
import * as nodePty from 'node-pty';
import type { PtyProcess } from './terminal.ts';

const ATTACH_CLEAR = '\x1b[H\x1b[J';
/** The clear comes first; give up looking after this many chars. */
const HEAD_SCAN = 64;

export function spawnDtachAttach(socketPath: string, cols: number, rows: number): PtyProcess {
  // -E: no detach key, -z: no suspend key (both would steal learner keystrokes);
  // -r winch: on attach, make the shell redraw by sending it a window-size change.
  const p = nodePty.spawn('dtach', ['-a', socketPath, '-E', '-z', '-r', 'winch'], {
    name: 'xterm-256color',
    cols,
    rows,
    cwd: '/',
    env: { TERM: 'xterm-256color', PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
  });
  // The dtach client clears the screen when it attaches. That would wipe the scrollback the page
  // has just replayed, so the clear is dropped from the start of its output.
  let head: string | null = '';
  let sink: (d: string) => void = () => {};
  const flushHead = () => {
    if (head === null) return;
    const at = head.indexOf(ATTACH_CLEAR);
    const out = at === -1 ? head : head.slice(0, at) + head.slice(at + ATTACH_CLEAR.length);
    head = null;
    sink(out); // even when empty: it tells the terminal the attach is through
  };
  p.onData((d) => {
    if (head === null) return sink(d);
    head += d;
    if (head.includes(ATTACH_CLEAR) || head.length >= HEAD_SCAN) flushHead();
  });
  return {
    onData: (fn) => void (sink = fn),
    // An attach that fails prints a short error and exits: show it.
    onExit: (fn) => void p.onExit((e) => {
      flushHead();
      fn(e.exitCode);
    }),
    write: (d) => p.write(d),
    resize: (c, r) => p.resize(c, r),
    pause: () => p.pause(),
    resume: () => p.resume(),
    kill: () => {
      try {
        p.kill();
      } catch {
        // already gone
      }
    },
  };
}
