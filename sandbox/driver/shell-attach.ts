// The learner's shell through the host engine's API: an exec with a TTY that runs the sandbox's own
// dtach client against the dtach master at /run/lab/term.sock. Unlike the host dtach client on the
// bind-mounted socket, nothing here needs the sandbox's files on the server's host, so it works with
// an engine on another machine (TCP+TLS, ssh) exactly as with the local one.
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { SandboxError } from './errors.ts';
import { enterArgv } from './userns.ts';
import type { ExecOptions, ExecResult, SandboxRef, SandboxShell, ShellStream } from './types.ts';

/** Where the shell's dtach master listens inside every sandbox (sandbox/image/shell.sh). */
const TERM_SOCKET = '/run/lab/term.sock';
/** argv[0] of our attach clients, so they can be found (and ended) inside the sandbox. */
const ATTACH_NAME = 'lablab-attach-';

/**
 * Run by bash with $0 = token, $1 = cols, $2 = rows.
 * - The engine keeps a TTY exec running when its client goes away (a server killed with -9), so
 *   attach clients left by a gone server are ended first: one server attaches to a sandbox at a time.
 * - stty sets the size before dtach starts, so the shell never sees a 0x0 window (API 1.41 engines
 *   have no size on exec start).
 * - -E: no detach key, -z: no suspend key; -r winch: the shell redraws on attach.
 */
const ATTACH_SCRIPT = [
  `pkill -HUP -f '^${ATTACH_NAME}' 2>/dev/null`,
  'stty cols "$1" rows "$2" 2>/dev/null',
  `exec -a "${ATTACH_NAME}$0" dtach -a ${TERM_SOCKET} -E -z -r winch`,
].join('\n');

/** `dtach -p` with empty input connects, sends nothing and exits 0 only if the master answers. */
const ENSURE_SCRIPT = [
  `alive() { dtach -p ${TERM_SOCKET} </dev/null >/dev/null 2>&1; }`,
  'alive && exit 0',
  '/usr/local/sbin/lablab-shell || exit $?',
  'for i in $(seq 50); do alive && exit 0; sleep 0.1; done',
  'echo "the dtach master did not answer" >&2; exit 1',
].join('\n');

export interface ShellAttachDeps {
  docker: Docker;
  exec(ref: SandboxRef, cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  log?: (msg: string, err?: unknown) => void;
}

export function createShellAttach(deps: ShellAttachDeps): SandboxShell {
  const { docker, exec } = deps;
  const log = deps.log ?? (() => {});

  async function attachShell(ref: SandboxRef, cols: number, rows: number): Promise<ShellStream> {
    const token = randomBytes(6).toString('hex');
    let ex: Docker.Exec;
    let sock: Duplex;
    try {
      ex = await docker.getContainer(ref.containerId).exec({
        Cmd: enterArgv(['bash', '-c', ATTACH_SCRIPT, token, String(cols), String(rows)], true),
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: true,
        Env: ['TERM=xterm-256color', 'LANG=C.UTF-8'],
      });
      // Tty here too: it is what tells the engine to send raw bytes rather than multiplexed frames.
      sock = (await ex.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
    } catch (err) {
      throw new SandboxError('sandbox_failed', `could not attach to the shell in node${ref.node}: ${(err as Error).message}`, { cause: err });
    }
    // Nagle would hold single keystrokes back on a TCP engine; the local unix socket ignores this.
    (sock as Partial<import('node:net').Socket>).setNoDelay?.(true);

    let endFn: (code: number | null) => void = () => {};
    let ended = false;
    const finish = async () => {
      if (ended) return;
      ended = true;
      let code: number | null = null;
      try {
        // The exec may still be winding down when its stream closes.
        for (let i = 0; i < 10; i++) {
          const info = await ex.inspect();
          if (!info.Running) {
            code = info.ExitCode ?? null;
            break;
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      } catch {
        // container gone: the exit code is unknowable, and null says so
      }
      endFn(code);
    };
    sock.on('end', () => void finish());
    sock.on('close', () => void finish());
    sock.on('error', (err) => {
      log(`shell attach to node${ref.node}: stream error`, err);
      void finish();
    });

    return {
      onData: (fn) => void sock.on('data', fn),
      onEnd: (fn) => void (endFn = fn),
      write: (d) => {
        if (!sock.destroyed) sock.write(d);
      },
      resize: async (c, r) => {
        await ex.resize({ h: r, w: c });
      },
      pause: () => void sock.pause(),
      resume: () => void sock.resume(),
      close: async () => {
        sock.destroy();
        // Closing the stream does not end a TTY exec: end our dtach client by its name.
        await exec(ref, ['pkill', '-HUP', '-f', `^${ATTACH_NAME}${token}( |$)`], { timeoutMs: 5_000, world: true }).catch((err) =>
          log(`shell attach to node${ref.node}: could not end the attach client (the next attach will)`, err),
        );
      },
    };
  }

  const starts = new Map<string, Promise<void>>();

  /** Single-flight per sandbox: two attaches at once must not start two shells. */
  function ensureShellInSandbox(ref: SandboxRef): Promise<void> {
    let p = starts.get(ref.id);
    if (!p) {
      p = (async () => {
        const r = await exec(ref, ['bash', '-c', ENSURE_SCRIPT], { timeoutMs: 10_000, world: true });
        if (r.exitCode !== 0) throw new SandboxError('sandbox_failed', `could not start the shell in node${ref.node}: ${(r.stderr || r.stdout).trim()}`);
      })().finally(() => starts.delete(ref.id));
      starts.set(ref.id, p);
    }
    return p;
  }

  return { attachShell, ensureShellInSandbox };
}
