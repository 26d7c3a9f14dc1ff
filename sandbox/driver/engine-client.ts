// EngineClient over dockerode for a sandbox's inner engine, reached only through its unix socket.
// dockerode types stay in this file; callers see our own ImageInfo/ContainerInfo/EngineEvent.
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Demuxer } from './demux.ts';
import { containerDetails, engineObjects, imageExtras, listedDetails } from './engine-objects.ts';
import { LABELS, type ContainerInfo, type EngineClient, type EngineEvent, type ImageInfo } from './types.ts';
import { statusOf, orNull } from './engine-status.ts';

/**
 * Per-request timeout for ordinary calls to the inner engine. It is an idle-socket timeout, so it must
 * never apply to the events stream: that stays silent for as long as the learner does nothing.
 */
export const ENGINE_REQUEST_TIMEOUT_MS = 30_000;

/** Containers we create inside a learner's engine for probing; hidden from containers(). */
const PROBE_PREFIX = 'lablab-probe-';

const METADATA_INSTRUCTION =
  /^(?:\/bin\/sh -c #\(nop\)\s+)?(?:ENV|CMD|ENTRYPOINT|EXPOSE|LABEL|MAINTAINER|USER|VOLUME|WORKDIR|ARG|ONBUILD|STOPSIGNAL|HEALTHCHECK|SHELL)\b/;

export interface EngineClientOptions {
  /** The inner engine's unix socket on this host... */
  socketPath?: string;
  /** ...or, for a sandbox on another host, an agent whose connections reach it (exec-relay.ts). */
  agent?: import('node:http').Agent;
  /** Called before every connection: verifies (and refreshes) the socket; throws to refuse. */
  beforeConnect?: () => void;
  /** Per-request timeout for everything but the events stream (default ENGINE_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
}

const STATES = new Set<ContainerInfo['state']>(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);
function toState(s: string | undefined): ContainerInfo['state'] {
  const v = (s ?? '').toLowerCase() as ContainerInfo['state'];
  return STATES.has(v) ? v : 'dead';
}

export function createEngineClient(opts: EngineClientOptions): EngineClient {
  // With an agent, host and port are only what the HTTP requests say: the agent makes the connection.
  const where = (opts.agent ? { protocol: 'http', host: 'inner-engine', port: 2375, agent: opts.agent } : { socketPath: opts.socketPath }) as Docker.DockerOptions;
  const docker = new Docker({ ...where, timeout: opts.timeoutMs ?? ENGINE_REQUEST_TIMEOUT_MS });
  // The events stream lives as long as the sandbox: no timeout (the modem's timeout is per client).
  const streaming = new Docker(where);
  const check = (): void => opts.beforeConnect?.();

  async function image(ref: string): Promise<ImageInfo | null> {
    check();
    const img = docker.getImage(ref);
    const info = await orNull(img.inspect());
    if (!info) return null;
    const hist = ((await orNull(img.history())) ?? []) as { CreatedBy?: string; Size?: number }[];
    const cfg = info.Config ?? ({} as Docker.ImageInspectInfo['Config']);
    const extras = imageExtras(info);
    return {
      platform: extras.platform,
      id: info.Id,
      tags: (info.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      sizeBytes: info.Size,
      layers: info.RootFS?.Layers ?? [],
      created: info.Created,
      config: {
        entrypoint: (cfg.Entrypoint as string[] | null | undefined) ?? null,
        cmd: (cfg.Cmd as string[] | null | undefined) ?? null,
        workdir: cfg.WorkingDir ?? '',
        env: cfg.Env ?? [],
        exposedPorts: Object.keys(cfg.ExposedPorts ?? {}),
        labels: cfg.Labels ?? {},
        user: cfg.User ?? '',
        ...extras.config,
      },
      // The engine lists history newest first; we keep the order of `layers`: oldest first.
      history: hist
        .map((h) => {
          const createdBy = h.CreatedBy ?? '';
          const sizeBytes = h.Size ?? 0;
          return { createdBy, sizeBytes, emptyLayer: sizeBytes === 0 && METADATA_INSTRUCTION.test(createdBy.trim()) };
        })
        .reverse(),
    };
  }

  async function container(nameOrId: string): Promise<ContainerInfo | null> {
    check();
    const c = await orNull(docker.getContainer(nameOrId).inspect());
    if (!c) return null;
    const ports: ContainerInfo['ports'] = [];
    for (const [key, binds] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
      const [port, protocol] = key.split('/');
      const list = (binds ?? []) as { HostPort?: string }[];
      if (list.length === 0) ports.push({ containerPort: Number(port), protocol: protocol ?? 'tcp', hostPort: null });
      for (const b of list) ports.push({ containerPort: Number(port), protocol: protocol ?? 'tcp', hostPort: b.HostPort ? Number(b.HostPort) : null });
    }
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      image: c.Config?.Image ?? c.Image,
      state: toState(c.State?.Status),
      exitCode: c.State?.Running ? null : (c.State?.ExitCode ?? null),
      ports,
      ...containerDetails(c),
    };
  }

  async function containers(): Promise<ContainerInfo[]> {
    check();
    const list = await docker.listContainers({ all: true });
    return list
      .map((c) => {
        const exit = /Exited \((-?\d+)\)/.exec(c.Status ?? '');
        return {
          id: c.Id,
          name: (c.Names?.[0] ?? '').replace(/^\//, ''),
          image: c.Image,
          state: toState(c.State),
          exitCode: exit ? Number(exit[1]) : null,
          ports: (c.Ports ?? []).map((p) => ({ containerPort: p.PrivatePort, protocol: p.Type, hostPort: p.PublicPort ?? null })),
          ...listedDetails(c),
        };
      })
      .filter((c) => !c.name.startsWith(PROBE_PREFIX));
  }

  async function containerLogs(nameOrId: string, tailBytes = 64 * 1024): Promise<string> {
    check();
    const c = docker.getContainer(nameOrId);
    const info = await c.inspect();
    const raw = (await c.logs({ stdout: true, stderr: true, follow: false, tail: 2000 })) as unknown as Buffer;
    let text: string;
    if (info.Config?.Tty) {
      text = raw.toString('utf8');
    } else {
      const d = new Demuxer(Number.MAX_SAFE_INTEGER);
      d.push(raw);
      text = d.stdout() + d.stderr();
    }
    const buf = Buffer.from(text);
    return buf.length > tailBytes ? buf.subarray(buf.length - tailBytes).toString('utf8') : text;
  }

  async function imageHasPath(ref: string, p: string): Promise<boolean> {
    check();
    // A created (never started) container exposes the image's filesystem through the archive API.
    // The dummy entrypoint lets this work on FROM-scratch images that have no command at all.
    const probe = await docker.createContainer({
      name: PROBE_PREFIX + randomBytes(6).toString('hex'),
      Image: ref,
      Entrypoint: ['/lablab-probe'],
      Cmd: [],
      Labels: { [LABELS.managed]: '1', [LABELS.kind]: 'probe' },
      NetworkDisabled: true,
    });
    try {
      await probe.infoArchive({ path: p });
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    } finally {
      await probe.remove({ force: true }).catch(() => {
        // Best effort: a leftover probe is hidden from containers() and harmless.
      });
    }
  }

  function events(onEvent: (e: EngineEvent) => void, onEnd: (err?: Error) => void): () => void {
    let stream: Readable | undefined;
    let stopped = false;
    let ended = false;
    const end = (err?: Error): void => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    try {
      check();
    } catch (err) {
      queueMicrotask(() => end(err as Error));
      return () => {};
    }
    streaming.getEvents({}).then(
      (s) => {
        stream = s as Readable;
        if (stopped) return stream.destroy();
        let buf = '';
        stream.on('data', (chunk: Buffer) => {
          buf += chunk.toString('utf8');
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            try {
              const e = JSON.parse(line) as {
                Type?: string; Action?: string; status?: string; id?: string; time?: number; timeNano?: number;
                Actor?: { ID?: string; Attributes?: Record<string, string> };
              };
              const attributes = e.Actor?.Attributes ?? {};
              onEvent({
                type: e.Type ?? '',
                action: e.Action ?? e.status ?? '',
                subject: attributes['name'] ?? e.Actor?.ID ?? e.id ?? '',
                attributes,
                time: e.timeNano ? Math.floor(e.timeNano / 1e6) : (e.time ?? 0) * 1000,
              });
            } catch {
              // A line that is not JSON is not an event; skip it rather than end the stream.
            }
          }
        });
        stream.on('error', (err: Error) => end(stopped ? undefined : err));
        stream.on('close', () => end());
        stream.on('end', () => end());
      },
      (err: Error) => end(err),
    );
    return () => {
      stopped = true;
      stream?.destroy();
      end();
    };
  }

  return {
    async ping() {
      try {
        check();
        await docker.ping();
        return true;
      } catch {
        return false;
      }
    },
    image,
    async imageTags() {
      check();
      const list = await docker.listImages();
      return list.flatMap((i) => i.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
    },
    container,
    containers,
    containerLogs,
    imageHasPath,
    events,
    ...engineObjects(docker, check),
  };
}
