// Where the host test keeps things. The cache (base images, loaded-image layers, the ssh key) is shared
// by every checkout on this machine; runs, logs and VM state belong to the checkout that runs them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = path.resolve(HERE, '../..');

export interface Paths {
  cache: string;
  sshKey: string;
  /** <checkout>/.data/host-test */
  work: string;
  vms: string;
  runs: string;
}

export function pathsFor(projectRoot: string, env: NodeJS.ProcessEnv = process.env): Paths {
  const cache = env.HOST_TEST_CACHE || '/var/cache/lablab-host-test';
  const work = path.join(projectRoot, '.data', 'host-test');
  return { cache, sshKey: path.join(cache, 'ssh', 'id_ed25519'), work, vms: path.join(work, 'vms'), runs: path.join(work, 'runs') };
}

export function makeDirs(p: Paths): void {
  for (const d of [p.cache, path.dirname(p.sshKey), p.work, p.vms, p.runs]) fs.mkdirSync(d, { recursive: true });
}
