// What is local to the engine's host: where a sandbox's data-root, /root and /tmp live, how its
// limits are held, how the server reaches its inner engine and shell, and where the firewall rules
// go. The local site (local-site.ts) uses this host's loop disks, template bind layers, cgroups,
// socket folders and iptables; the remote site (remote-site.ts) does all of it through the engine API.
import type Docker from 'dockerode';
import type { EgressFirewallOptions } from './egress.ts';
import type { EngineClient, SandboxLimits, SandboxRef } from './types.ts';

export interface EngineSite {
  /** False when the sandboxes' files and sockets are on this host. */
  readonly remote: boolean;
  /** Throws the refusal a create would meet, before any work is done. */
  check(limits: SandboxLimits): Promise<void>;
  /**
   * Makes the sandbox's storage (inner data-root with `images` preloaded, /root, /tmp) and limits;
   * returns the HostConfig fields its container needs, and its id: `id`, or the id of storage made
   * ahead that it takes instead (remote spares). `mark` records a timing phase.
   */
  prepare(id: string, limits: SandboxLimits, images: string[], onProgress?: (m: string) => void, mark?: (phase: string) => void): Promise<{ id: string; hostConfig: Partial<Docker.HostConfig> }>;
  /** Undoes prepare once the container is gone (idempotent). */
  release(id: string): Promise<void>;
  /** The host paths a ref carries (empty strings on a remote site: nothing is on this host). */
  paths(id: string): Pick<SandboxRef, 'socketDir' | 'engineSocket' | 'terminalSocket'>;
  engine(ref: SandboxRef): EngineClient;
  /** Drops what the site keeps for a destroyed sandbox (its engine client). */
  forget(id: string): void;
  /** Makes sure the learner's shell runs (see SandboxDriver.ensureShell). */
  ensureShell(ref: SandboxRef): Promise<void>;
  /** Copies a host folder's files into the sandbox's /root (a pooled sandbox no learner has used). */
  copyFiles(ref: SandboxRef, hostDir: string): Promise<void>;
  memoryBytes(id: string): number | undefined;
  /** The sandbox's host-held CPU weight, where this site holds it (a local cgroupfs parent); the container's own is set by the driver. */
  setCpuShares?(id: string, shares: number): void;
  /** Where iptables runs for this engine's bridges (the egress firewall's runner and resolvers). */
  firewall: Pick<EgressFirewallOptions, 'run' | 'resolvConf'>;
  /** Keeps sandboxes in `pool` from reaching the engine host's own services (once per process). */
  isolateHost(pool: string): Promise<void>;
  /** Removes what killed processes left beside the containers; `known` are ids with a container. Returns ids reaped. */
  reapOrphans(known: Set<string>, creating: Set<string>, now: number): Promise<string[]>;
  /** Builds (or finds) the preloaded-image template for this image set ahead of the first create. */
  prepareImages(images: string[]): Promise<void>;
  dispose(): Promise<void>;
}
