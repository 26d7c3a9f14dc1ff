// The real wire: the same Terminal (dtach attach over the master's socket, flow control) the browser's terminal uses,
// with the autopilot as its only viewer.
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import { Terminal, type PtyProcess } from '../terminals/terminal.ts';
import { ShellSession } from './shell.ts';
import { AUTOPILOT } from './tuning.ts';

export interface OpenShell {
  shell: ShellSession;
  dispose(): void;
}

export function openSandboxShell(
  driver: SandboxDriver,
  ref: SandboxRef,
  spawnPty: (socketPath: string, cols: number, rows: number) => PtyProcess,
  opts: { quietMs?: number; log?: (msg: string, err?: unknown) => void } = {},
): OpenShell {
  const viewerId = 'autopilot';
  const terminal = new Terminal({
    spawn: (cols, rows) => spawnPty(ref.terminalSocket, cols, rows),
    ensureShell: () => driver.ensureShell(ref),
    scrollback: { load: () => '', append: () => {} },
    log: opts.log,
  });
  const shell = new ShellSession(terminal, { quietMs: opts.quietMs });
  terminal.resize(AUTOPILOT.cols, AUTOPILOT.rows);
  terminal.addViewer({
    id: viewerId,
    data: (d) => {
      shell.push(d);
      // Consumed at once: without the ack, flow control pauses the pty after 100k chars (a long build log).
      terminal.ack(viewerId, d.length);
    },
    replay: () => {},
    state: (s, message) => {
      if (s === 'failed') shell.fail(`terminal ${ref.node} failed: ${message ?? 'no reason given'}`);
    },
  });
  terminal.start();
  return { shell, dispose: () => terminal.dispose() };
}
