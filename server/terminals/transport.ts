// Which wire a terminal uses to reach its sandbox's shell (TERMINAL_TRANSPORT):
// - local: the server speaks dtach's attach protocol itself on the sandbox's bind-mounted socket
//   (dtach-socket.ts: no process, no pty). Needs the sandbox's socket directory on this host; the
//   fastest path (see README, "Two terminal transports").
// - pty:   the same socket through the host's dtach client under node-pty (dtach-pty.ts): a process
//          and a host pty per terminal, as before the local transport spoke the protocol itself.
// - exec:  the sandbox's own dtach client in an exec with a TTY, through the engine API. Works with an
//   engine anywhere; nothing on this host is touched.
// - auto:  local when the sandbox's socket directory is on this host, exec otherwise. A sandbox on a
//          remote engine (sandbox/driver/remote-site.ts) always gets exec, whatever the mode.
import fs from 'node:fs';
import type { SandboxRef, SandboxShell } from '../../sandbox/driver/types.ts';
import { AppError } from '../errors.ts';
import { spawnExecAttach } from './exec-attach.ts';
import type { PtyProcess } from './terminal.ts';

export const TERMINAL_TRANSPORTS = ['auto', 'local', 'pty', 'exec'] as const;
export type TerminalTransportMode = (typeof TERMINAL_TRANSPORTS)[number];

/** What a Terminal needs to reach one sandbox's shell. */
export interface ShellWire {
  kind: 'local' | 'exec';
  spawn(cols: number, rows: number): PtyProcess;
  ensureShell(): Promise<void>;
}

/** Pure: the transport for one sandbox. */
export function chooseTransport(mode: TerminalTransportMode, localReachable: boolean): 'local' | 'exec' {
  if (mode === 'auto') return localReachable ? 'local' : 'exec';
  return mode === 'pty' ? 'local' : mode;
}

export interface TerminalTransportDeps {
  mode: TerminalTransportMode;
  /** The attach over the bind-mounted socket (dtach-socket.ts). */
  spawnLocal(socketPath: string, cols: number, rows: number): PtyProcess;
  /** The host dtach client under node-pty on the same socket (dtach-pty.ts), for TERMINAL_TRANSPORT=pty. */
  spawnPty?(socketPath: string, cols: number, rows: number): PtyProcess;
  /** The driver's ensureShell, which checks the bind-mounted socket from this host. */
  ensureLocal(ref: SandboxRef): Promise<void>;
  shell: SandboxShell;
  /** Whether this sandbox's socket directory is on this host (default: it exists here). */
  isLocal?(ref: SandboxRef): boolean;
  log?(msg: string, err?: unknown): void;
}

export function createTerminalTransport(deps: TerminalTransportDeps): (ref: SandboxRef) => ShellWire {
  if (!TERMINAL_TRANSPORTS.includes(deps.mode)) {
    throw new AppError('bad_request', `TERMINAL_TRANSPORT must be one of ${TERMINAL_TRANSPORTS.join(', ')}, got "${deps.mode}"`);
  }
  const isLocal = deps.isLocal ?? ((ref: SandboxRef) => isDir(ref.socketDir));
  const spawnLocal = deps.mode === 'pty' ? deps.spawnPty : deps.spawnLocal;
  if (!spawnLocal) throw new AppError('bad_request', 'TERMINAL_TRANSPORT=pty needs the host dtach client, which this program does not offer');
  return (ref) => {
    // A sandbox on a remote engine has no socket folder here (its ref carries an empty path): even
    // `local` can only mean exec there.
    const remote = ref.socketDir === '';
    const kind = remote ? 'exec' : chooseTransport(deps.mode, deps.mode === 'auto' ? isLocal(ref) : true);
    const log = (m: string, e?: unknown) => deps.log?.(`node${ref.node} (${kind} terminal): ${m}`, e);
    if (remote && (deps.mode === 'local' || deps.mode === 'pty')) log(`sandbox ${ref.id} is on a remote engine: TERMINAL_TRANSPORT=${deps.mode} cannot reach it, so its terminal goes through the engine`);
    log(`sandbox ${ref.id}: terminal through ${kind === 'exec' ? 'an engine exec' : deps.mode === 'pty' ? 'the host dtach client under node-pty' : 'the dtach socket'}`);
    if (kind === 'local') {
      return { kind, spawn: (c, r) => spawnLocal(ref.terminalSocket, c, r), ensureShell: () => deps.ensureLocal(ref) };
    }
    return {
      kind,
      spawn: (c, r) => spawnExecAttach({ open: (cc, rr) => deps.shell.attachShell(ref, cc, rr), log }, c, r),
      ensureShell: () => deps.shell.ensureShellInSandbox(ref),
    };
  };
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
