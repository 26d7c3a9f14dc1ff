// What a test's processes left on this host: everything an owner made under one data dir, listed in
// a form that compares across runs (names and paths, never loop device numbers or container ids).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { BUILD_LOCK_LABEL } from './templates.ts';
import { LABELS } from './types.ts';

export interface Inventory {
  containers: string[];
  networks: string[];
  volumes: string[];
  /** Backing files of loop devices under the data dir. */
  loops: string[];
  /** Mount points under the data dir. */
  mounts: string[];
  /** DOCKER-USER rules naming one of the owner's networks (egress rules carry the network name). */
  rules: string[];
  /** Entries of <dataDir>/templates (finished templates and unfinished builds), lock folder aside. */
  templates: string[];
  /** Entries of <dataDir>/sandboxes. */
  sandboxDirs: string[];
}

const ls = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((e) => !e.startsWith('.')).sort() : []);

export async function inventory(docker: Docker, dataDir: string, owner: string): Promise<Inventory> {
  const byOwner = { label: [`${LABELS.owner}=${owner}`] };
  const containers = new Set<string>();
  for (const c of await docker.listContainers({ all: true, filters: byOwner })) containers.add(c.Names[0]!.replace(/^\//, ''));
  // Builders of any owner whose build lock lives in this data dir.
  for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABELS.kind}=template-builder`] } })) {
    if (c.Labels?.[BUILD_LOCK_LABEL]?.startsWith(dataDir + '/')) containers.add(c.Names[0]!.replace(/^\//, ''));
  }
  const networks = (await docker.listNetworks({ filters: byOwner })).map((n) => n.Name).sort();
  const volumes = ((await docker.listVolumes({ filters: byOwner })).Volumes ?? []).map((v) => v.Name).sort();
  const loops = execFileSync('losetup', ['-l', '-n', '-O', 'BACK-FILE'], { encoding: 'utf8' })
    .split('\n').map((l) => l.trim().replace(/ \(deleted\)$/, '')).filter((f) => f.startsWith(dataDir + '/')).sort();
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4] ?? '').filter((m) => m === dataDir || m.startsWith(dataDir + '/')).sort();
  const ipt = spawnSync('iptables', ['-w', '-S', 'DOCKER-USER'], { encoding: 'utf8' }).stdout ?? '';
  const rules = ipt.split('\n').filter((l) => l.includes(`lablab-${owner}-`)).sort();
  return {
    containers: [...containers].sort(), networks, volumes, loops, mounts, rules,
    templates: ls(path.join(dataDir, 'templates')), sandboxDirs: ls(path.join(dataDir, 'sandboxes')),
  };
}
