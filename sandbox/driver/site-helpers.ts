// Short-lived helper containers on a remote engine: they do on that host what the local site does
// with this host's files and commands (copy a template volume, run iptables). Each is labelled,
// runs one command and is removed; the reaper removes any a killed process left.
import type Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { Demuxer } from './demux.ts';
import { SandboxError } from './errors.ts';
import { idempotent } from './networks.ts';
import { LABELS } from './types.ts';

export const HELPER_KIND = 'site-helper';
/** A helper still running after this is stuck (a held lock, a wedged disk) and is removed. Copies of a
 * large template take seconds; this leaves room for a slow disk. */
const HELPER_TIMEOUT_MS = 10 * 60_000;

export interface HelperRun {
  /** Part of the container's name, for whoever lists containers on that host. */
  name: string;
  cmd: string[];
  stdin?: string;
  mounts?: Docker.MountSettings[];
  /** 'host' for the firewall; 'none' otherwise. */
  network?: 'none' | 'host';
  capAdd?: string[];
}

export interface HelperResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function createSiteHelpers(deps: { docker: Docker; image: string; owner: string }) {
  const { docker } = deps;

  async function run(r: HelperRun): Promise<HelperResult> {
    const hasStdin = r.stdin !== undefined;
    const c = await docker.createContainer({
      name: `lablab-helper-${r.name}-${randomBytes(3).toString('hex')}`,
      Image: deps.image,
      // The image's entrypoint is the sandbox init; a helper runs its one command instead.
      Entrypoint: [r.cmd[0]!],
      Cmd: r.cmd.slice(1),
      Labels: { [LABELS.managed]: '1', [LABELS.kind]: HELPER_KIND, [LABELS.owner]: deps.owner },
      AttachStdin: hasStdin,
      AttachStdout: true,
      AttachStderr: true,
      OpenStdin: hasStdin,
      StdinOnce: hasStdin,
      HostConfig: { NetworkMode: r.network ?? 'none', Mounts: r.mounts ?? [], CapAdd: r.capAdd ?? [] },
    });
    try {
      const stream = (await c.attach({ stream: true, stdin: hasStdin, stdout: true, stderr: true, hijack: hasStdin })) as unknown as Duplex;
      const d = new Demuxer(1024 * 1024);
      const ended = new Promise<void>((resolve) => {
        stream.on('data', (b: Buffer) => d.push(b));
        stream.on('end', resolve).on('close', resolve).on('error', () => resolve());
      });
      await c.start();
      if (hasStdin) stream.end(r.stdin);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new SandboxError('timeout', `helper ${r.cmd.join(' ')} on the engine's host did not finish in ${HELPER_TIMEOUT_MS / 1000} s`)), HELPER_TIMEOUT_MS);
      });
      const { StatusCode } = (await Promise.race([c.wait(), timedOut]).finally(() => clearTimeout(timer))) as { StatusCode: number };
      await Promise.race([ended, new Promise((res) => setTimeout(res, 2_000))]);
      return { code: StatusCode, stdout: d.stdout(), stderr: d.stderr() };
    } finally {
      await idempotent(c.remove({ force: true }));
    }
  }

  return {
    run,
    /** Runs iptables(-restore) in the engine host's network namespace; rejects with its stderr (EgressFirewallOptions.run). */
    async firewall(cmd: string[], stdin?: string): Promise<string> {
      const r = await run({ name: 'firewall', cmd, stdin, network: 'host', capAdd: ['NET_ADMIN', 'NET_RAW'] });
      if (r.code !== 0) throw new Error(`${cmd.join(' ')} on the engine's host: ${r.stderr.trim() || `exit ${r.code}`}`);
      return r.stdout;
    },
  };
}
