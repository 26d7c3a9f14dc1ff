// Builds the fleet's members from ENGINES: one Docker driver per engine, each with its own data
// folder, owner id and subnet pool (two engines on one host must not share either), a probe that
// asks the engine for its figures, and image shipping from the first engine before a create.
import fs from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { createDockerSandboxDriver, type DockerSandboxDriverConfig } from './docker-driver.ts';
import { dockerOptions, type EngineSpec } from './engines-config.ts';
import { createEngineFleet, type EngineFleet, type EngineFleetConfig, type FleetMember } from './engine-fleet.ts';
import { SandboxError } from './errors.ts';
import { builtSandboxImage } from './image-tag.ts';
import { shipImages } from './image-ship.ts';
import { LABELS } from './types.ts';

const MiB = 1024 ** 2;

/** What a failed connection to an engine means, in the words an operator needs (TLS, ssh, reachability). */
export function engineErrorMessage(spec: EngineSpec, err: unknown): string {
  const e = err as { message?: string; code?: string; level?: string };
  const msg = e?.message ?? String(err);
  let why = msg;
  if (spec.protocol === 'tcp' && (/certificate|ssl|tls|alert|handshake|self.signed|EPROTO|wrong version/i.test(msg) || /^ERR_(SSL|TLS)|^(EPROTO|ECONNRESET)$/.test(e?.code ?? ''))) {
    why = `the TLS handshake failed (${msg}); check that tls.ca signed the engine's certificate and that the engine trusts this server's client certificate (tls.cert, tls.key), and that the engine listens with --tlsverify`;
  } else if (spec.protocol === 'ssh' && (e?.level === 'client-authentication' || /authentication|host key|Host denied|handshake/i.test(msg))) {
    why = `ssh refused the login (${msg}); check the user, identityFile and hostKey`;
  } else if (/ECONNREFUSED|EHOSTUNREACH|ETIMEDOUT|ENOTFOUND/.test(msg + (e?.code ?? ''))) {
    why = `nothing answers there (${msg})`;
  }
  return `engine ${spec.id} (${spec.url}): ${why}`;
}

export function createFleetMember(spec: EngineSpec, index: number, base: DockerSandboxDriverConfig, first: Docker): FleetMember {
  const options = dockerOptions(spec, (p) => fs.readFileSync(p)) as Docker.DockerOptions;
  const docker = index === 0 ? first : new Docker(options);
  const sandboxImage = base.sandboxImage ?? builtSandboxImage();
  const driver = createDockerSandboxDriver({
    ...base,
    docker: options,
    sandboxImage,
    // The first engine keeps today's folder, owner and pool, so an existing install re-attaches unchanged.
    dataDir: index === 0 ? base.dataDir : path.join(base.dataDir, 'e', spec.id),
    ownerId: index === 0 ? base.ownerId : `${base.ownerId}-${spec.id}`,
    subnetPool: spec.subnetPool ?? (index === 0 ? base.subnetPool : `10.${213 + index}.0.0/16`),
    // The host cgroup manager given in `base` speaks for the first engine; the others ask their own.
    cgroups: index === 0 ? base.cgroups : undefined,
    // On another host: named volumes, container limits, the engine API for everything (remote-site.ts).
    remote: !spec.local,
  });
  const shipped = new Map<string, Promise<unknown>>();
  function ship(images: string[], onProgress?: (m: string) => void): Promise<unknown> {
    if (index === 0) return Promise.resolve();
    const key = images.join(' ');
    let p = shipped.get(key);
    if (!p) {
      p = (async () => {
        // Only what the first engine has: a lab image it lacks is fetched by the target's own sources.
        const have = (await Promise.all(images.map(async (i) => ((await first.getImage(i).inspect().then(() => true, () => false)) ? i : null)))).filter((i): i is string => !!i);
        await shipImages({
          from: first,
          to: docker,
          images: have,
          targetName: spec.id,
          onProgress: (pr) => onProgress?.(pr.done ? `Copied ${pr.image} to sandbox machine ${spec.id}.` : `Copying ${pr.image} to sandbox machine ${spec.id}: ${Math.round(pr.sentBytes / MiB)} of about ${Math.round(pr.totalBytes / MiB)} MB…`),
        });
      })();
      p.catch(() => shipped.delete(key));
      shipped.set(key, p);
    }
    return p;
  }
  const wrapped = {
    ...driver,
    async create(s: Parameters<typeof driver.create>[0]) {
      await ship([sandboxImage, ...s.images], s.onProgress);
      return driver.create(s);
    },
    // A remote engine installs a network's firewall rules with a helper made from the sandbox image.
    async createSessionNetwork(sessionId: string) {
      if (!spec.local) await ship([sandboxImage]);
      return driver.createSessionNetwork(sessionId);
    },
  };
  return {
    id: spec.id,
    driver: wrapped,
    maxSandboxes: spec.maxSandboxes,
    async probe() {
      try {
        const info = (await docker.info()) as { MemTotal: number; NCPU: number };
        const running = await docker.listContainers({ filters: { label: [`${LABELS.managed}=1`, `${LABELS.kind}=sandbox`] } });
        return { memTotalBytes: info.MemTotal, cpus: info.NCPU, running: running.length };
      } catch (err) {
        throw new SandboxError('engine_lost', engineErrorMessage(spec, err), { cause: err });
      }
    },
    async prepare(images) {
      await ship([sandboxImage, ...images]);
      await driver.prepareImages?.(images);
    },
  };
}

/** The fleet over ENGINES' engines, with the first one's Docker client as the image source. */
export function createEngineFleetFromSpecs(specs: EngineSpec[], base: DockerSandboxDriverConfig, fleet: Omit<EngineFleetConfig, 'members'>): EngineFleet {
  const first = new Docker(dockerOptions(specs[0]!, (p) => fs.readFileSync(p)) as Docker.DockerOptions);
  return createEngineFleet({ ...fleet, members: specs.map((s, i) => createFleetMember(s, i, base, first)) });
}
