// TERMINAL_TRANSPORT=pty: the host's `dtach` client, run under node-pty, attached to the dtach
// master that holds the learner's shell inside the sandbox (a unix socket in the sandbox's
// bind-mounted run directory). The same socket as the default local transport (dtach-socket.ts),
// which speaks the protocol itself; this one costs a process, a host pty and a fork per attach, and
// stays for hosts that want a real terminal client between the server and the shell.
import * as nodePty from 'node-pty';
import type { PtyProcess } from './terminal.ts';
import { createAttachClearFilter } from './attach-clear.ts';

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
  let sink: (d: string) => void = () => {};
  const head = createAttachClearFilter((d) => sink(d));
  p.onData((d) => head.push(d));
  return {
    onData: (fn) => void (sink = fn),
    // An attach that fails prints a short error and exits: show it.
    onExit: (fn) => void p.onExit((e) => {
      head.flush();
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
