// Running things in a sandbox through the engine API only: execs, the port relay and the archive
// calls. Nothing here touches the engine's host, so it serves local and remote engines alike.
import type Docker from 'dockerode';
import { Duplex, type Readable } from 'node:stream';
import { Demuxer, stdoutOf } from './demux.ts';
import { SandboxError } from './errors.ts';
import { statusOf } from './engine-status.ts';
import type { ExecOptions, ExecResult, SandboxArchive, SandboxRef } from './types.ts';
import { enterArgv, reownTar } from './userns.ts';

export const EXEC_TUNING = {
  defaultExecTimeoutMs: 60_000,
  /** Host-side grace after an exec's own `timeout -s KILL` should have fired. */
  execGraceMs: 3_000,
  defaultMaxOutputBytes: 1024 * 1024,
} as const;

/** The PATH of every exec the server runs in a sandbox (the entry puts /.lablab/bin first). */
const EXEC_PATH = 'PATH=/usr/sbin:/usr/bin:/sbin:/bin';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SandboxExec extends SandboxArchive {
  exec(ref: SandboxRef, cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  connectPort(ref: SandboxRef, port: number): Promise<Duplex>;
  /** A raw byte stream to a command's stdin/stdout in the sandbox (stderr dropped); ends with the command. */
  pipe(ref: SandboxRef, cmd: string[]): Promise<Duplex>;
  /** The last lines the sandbox's init wrote (for a sandbox that died while starting). */
  logsTail(ref: SandboxRef): Promise<string>;
}

/**
 * Every exec starts as /.lablab/bin/enter (userns.ts), which joins the sandbox's user namespace first:
 * nothing the server runs in a sandbox holds a capability on the host. `owner` is the host uid that
 * files put into a sandbox belong to (its world's root).
 */
export function createSandboxExec(docker: Docker, owner = 0): SandboxExec {
  async function exec(ref: SandboxRef, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? EXEC_TUNING.defaultExecTimeoutMs;
    const maxOut = opts.maxOutputBytes ?? EXEC_TUNING.defaultMaxOutputBytes;
    const hasStdin = opts.stdin !== undefined;
    // coreutils timeout runs the command in its own process group and kills the whole group.
    const secs = Math.max(1, Math.ceil(timeoutMs / 1000));
    const ex = await docker.getContainer(ref.containerId).exec({
      // The trusted tools first (enter's PATH): a learner, root inside, who replaces `timeout`, `sh`
      // or `docker` in /usr must not answer for the server's checks. The shell runs in the world.
      Cmd: enterArgv(['timeout', '-s', 'KILL', String(secs), ...cmd], opts.world),
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: hasStdin,
      Tty: false,
      Env: [EXEC_PATH, ...(opts.env ?? [])],
      WorkingDir: opts.workdir ?? ref.workdir,
    });
    const started = Date.now();
    const stream = (await ex.start({ hijack: true, stdin: hasStdin })) as Duplex;
    const d = new Demuxer(maxOut);
    let hostTimedOut = false;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        hostTimedOut = true;
        stream.destroy();
        resolve();
      }, timeoutMs + EXEC_TUNING.execGraceMs);
      stream.on('data', (c: Buffer) => d.push(c));
      stream.on('end', () => {
        clearTimeout(timer);
        resolve();
      });
      stream.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
      stream.on('error', (err) => {
        clearTimeout(timer);
        if (hostTimedOut) resolve();
        else reject(new SandboxError('sandbox_failed', `exec in node${ref.node} failed: ${err.message}`, { cause: err }));
      });
      if (hasStdin) stream.end(opts.stdin);
    });
    let exitCode = -1;
    for (let i = 0; i < 20; i++) {
      const info = await ex.inspect();
      if (!info.Running) {
        exitCode = info.ExitCode ?? -1;
        break;
      }
      if (hostTimedOut) break;
      await sleep(25);
    }
    const timedOut = hostTimedOut || (exitCode === 137 && Date.now() - started >= timeoutMs - 50);
    return { exitCode, stdout: d.stdout(), stderr: d.stderr(), timedOut };
  }

  async function pipe(ref: SandboxRef, cmd: string[]): Promise<Duplex> {
    const ex = await docker.getContainer(ref.containerId).exec({ Cmd: enterArgv(cmd), AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false, Env: [EXEC_PATH] });
    const raw = (await ex.start({ hijack: true, stdin: true })) as Duplex;
    const readable = raw.pipe(stdoutOf());
    raw.on('error', (err) => readable.destroy(err));
    return Duplex.from({ readable, writable: raw });
  }

  async function connectPort(ref: SandboxRef, port: number): Promise<Duplex> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SandboxError('bad_request', `There is no port ${port}.`);
    // bash's /dev/tcp opens the connection inside the sandbox; two cats relay it over the exec's stdio.
    return pipe(ref, ['bash', '-c', 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 7; cat <&3 & cat >&3; wait', String(port)]);
  }

  async function getArchive(ref: SandboxRef, p: string): Promise<Readable> {
    try {
      return (await docker.getContainer(ref.containerId).getArchive({ path: p })) as unknown as Readable;
    } catch (err) {
      if (statusOf(err) === 404) throw new SandboxError('not_found', `There is no ${p} in node${ref.node}.`);
      throw new SandboxError('sandbox_failed', `could not read ${p} from node${ref.node}: ${(err as Error).message}`, { cause: err });
    }
  }

  async function putArchive(ref: SandboxRef, dir: string, tar: Readable): Promise<void> {
    try {
      // noOverwriteDirNonDir: a file never replaces a folder (or the other way round) by accident.
      // Everything put in belongs to the sandbox's root (copyUIDGID keeps the owners we set).
      const owned = reownTar(tar, owner);
      await docker.getContainer(ref.containerId).putArchive(owned as unknown as NodeJS.ReadableStream, { path: dir, noOverwriteDirNonDir: true, copyUIDGID: true });
    } catch (err) {
      if (statusOf(err) === 404) throw new SandboxError('not_found', `There is no folder ${dir} in node${ref.node}.`);
      throw new SandboxError('sandbox_failed', `could not write into ${dir} in node${ref.node}: ${(err as Error).message}`, { cause: err });
    }
  }

  async function logsTail(ref: SandboxRef): Promise<string> {
    try {
      const raw = (await docker.getContainer(ref.containerId).logs({ stdout: true, stderr: true, tail: 20 })) as unknown as Buffer;
      const d = new Demuxer(64 * 1024);
      d.push(raw);
      return (d.stdout() + d.stderr()).trim();
    } catch {
      return '';
    }
  }

  return { exec, pipe, connectPort, getArchive, putArchive, logsTail };
}
