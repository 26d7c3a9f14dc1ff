// Which Docker engines sandboxes may run on: ENGINES (comma-separated URLs) or ENGINES_FILE
// (JSON or YAML with TLS paths). Pure: reading the file is the caller's job.
import { parse as parseYaml } from 'yaml';
import { SandboxError } from './errors.ts';

export interface EngineTls {
  ca: string;
  cert: string;
  key: string;
}

export interface EngineSpec {
  /** Stable short name, used in logs, metrics and on the session ("local", "e2", …). */
  id: string;
  url: string;
  protocol: 'unix' | 'tcp' | 'ssh';
  /** unix: the socket path. */
  socketPath?: string;
  host?: string;
  port?: number;
  /** ssh: the login. */
  username?: string;
  /** ssh: the private key file (default: the ssh agent at SSH_AUTH_SOCK). */
  identityFile?: string;
  /** ssh: the engine host's public host key file (a line of its ssh_host_*_key.pub); the login is refused if it differs. */
  hostKey?: string;
  /** tcp: client certificate paths (TLS is required on tcp: an open engine port is root on that host). */
  tls?: EngineTls;
  /**
   * Whether the engine runs on the server's own host: only then do loop disks, host cgroups, the
   * bind-mounted socket dir and the egress firewall apply. A unix socket is local by definition.
   */
  local: boolean;
  /** Sandboxes this engine may hold at most (default: from its memory). */
  maxSandboxes?: number;
  /** Session networks on this engine are carved from this pool (engines on one host need distinct pools). */
  subnetPool?: string;
  /** Drained: keeps its sessions, takes no new ones (set in ENGINES_FILE, re-read while running). */
  drain: boolean;
}

export const LOCAL_ENGINE_URL = 'unix:///var/run/docker.sock';

interface RawEngine {
  id?: string;
  url: string;
  tls?: EngineTls;
  identityFile?: string;
  hostKey?: string;
  maxSandboxes?: number;
  subnetPool?: string;
  drain?: boolean;
}

/** One engine from its URL (and the optional fields a config file adds). */
export function parseEngine(raw: RawEngine, index: number): EngineSpec {
  let u: URL;
  try {
    u = new URL(raw.url);
  } catch {
    throw new SandboxError('bad_request', `engine ${index + 1}: "${raw.url}" is not a URL; write unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host`);
  }
  const id = raw.id ?? (index === 0 ? 'local' : `e${index + 1}`);
  if (!/^[a-z0-9][a-z0-9-]{0,15}$/.test(id)) throw new SandboxError('bad_request', `engine id "${id}": use up to 16 lower-case letters, digits and dashes`);
  const common = { id, url: raw.url, maxSandboxes: raw.maxSandboxes, subnetPool: raw.subnetPool, drain: raw.drain === true };
  switch (u.protocol) {
    case 'unix:':
      if (!u.pathname || u.pathname === '/') throw new SandboxError('bad_request', `engine ${id}: ${raw.url} names no socket`);
      return { ...common, protocol: 'unix', socketPath: decodeURIComponent(u.pathname), local: true };
    case 'tcp:': {
      if (!raw.tls) throw new SandboxError('bad_request', `engine ${id}: ${raw.url} has no TLS certificates; list it in ENGINES_FILE with tls: { ca, cert, key } (an engine port without TLS is root on that host to anyone who reaches it)`);
      return { ...common, protocol: 'tcp', host: u.hostname, port: Number(u.port || 2376), tls: raw.tls, local: false };
    }
    case 'ssh:':
      if (!raw.hostKey) throw new SandboxError('bad_request', `engine ${id}: ${raw.url} has no hostKey; list it in ENGINES_FILE with hostKey: <a copy of that host's /etc/ssh/ssh_host_ed25519_key.pub> (without it, anyone on the path could pose as the engine)`);
      return { ...common, protocol: 'ssh', host: u.hostname, port: Number(u.port || 22), username: decodeURIComponent(u.username) || undefined, identityFile: raw.identityFile, hostKey: raw.hostKey, local: false };
    default:
      throw new SandboxError('bad_request', `engine ${id}: ${u.protocol.replace(':', '')} is not an engine address; use unix://, tcp:// (with TLS) or ssh://`);
  }
}

/**
 * The engines from the environment: ENGINES_FILE's text (JSON or YAML: `engines: [{ id, url, tls }]`)
 * wins over ENGINES; with neither, the local engine alone.
 */
export function parseEngines(env: { ENGINES?: string }, fileText?: string): EngineSpec[] {
  let raws: RawEngine[];
  if (fileText !== undefined) {
    const doc = parseYaml(fileText) as { engines?: RawEngine[] } | RawEngine[] | null;
    raws = Array.isArray(doc) ? doc : doc?.engines ?? [];
    if (!raws.length || raws.some((r) => typeof r?.url !== 'string')) throw new SandboxError('bad_request', 'ENGINES_FILE lists no engines: write engines: [{ url: unix:///var/run/docker.sock }, …]');
  } else if (env.ENGINES?.trim()) {
    raws = env.ENGINES.split(',').map((s) => s.trim()).filter(Boolean).map((url) => ({ url }));
  } else {
    raws = [{ url: LOCAL_ENGINE_URL }];
  }
  const specs = raws.map(parseEngine);
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.id)) throw new SandboxError('bad_request', `engine id "${s.id}" is listed twice`);
    seen.add(s.id);
  }
  return specs;
}

/** dockerode's connection options for an engine (file contents read by `read`). */
export function dockerOptions(spec: EngineSpec, read: (p: string) => Buffer): Record<string, unknown> {
  switch (spec.protocol) {
    case 'unix':
      return { socketPath: spec.socketPath };
    case 'tcp':
      return { protocol: 'https', host: spec.host, port: spec.port, ca: read(spec.tls!.ca), cert: read(spec.tls!.cert), key: read(spec.tls!.key) };
    case 'ssh': {
      // The .pub line is "<type> <base64 key blob> [comment]"; ssh2 hands the verifier the raw blob.
      const want = Buffer.from(read(spec.hostKey!).toString('utf8').trim().split(/\s+/)[1] ?? '', 'base64');
      return {
        protocol: 'ssh',
        host: spec.host,
        port: spec.port,
        username: spec.username,
        sshOptions: {
          ...(spec.identityFile ? { privateKey: read(spec.identityFile) } : { agent: process.env.SSH_AUTH_SOCK }),
          hostVerifier: (key: Buffer) => want.length > 0 && key.equals(want),
        },
      };
    }
  }
}
