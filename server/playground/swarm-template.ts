// Play-With-Docker's templates: make the nodes and form a Swarm from them. Everything goes through
// the driver's exec in each sandbox and the nodes' names on the session network (node1:2377), never
// a container IP.
import type { ExecResult, SandboxRef } from '../../sandbox/driver/types.ts';
import { AppError } from '../errors.ts';

export interface SwarmTemplate {
  id: string;
  /** The button's accessible name (a contract: tests outside this repo click it). */
  name: string;
  managers: number;
  workers: number;
}

export const SWARM_TEMPLATES: readonly SwarmTemplate[] = [
  { id: '3m2w', name: '3 managers and 2 workers', managers: 3, workers: 2 },
  { id: '5m', name: '5 managers', managers: 5, workers: 0 },
  { id: '1m1w', name: '1 manager and 1 worker', managers: 1, workers: 1 },
];

export function templateById(id: unknown): SwarmTemplate {
  const t = SWARM_TEMPLATES.find((x) => x.id === id);
  if (!t) throw new AppError('bad_request', `There is no template "${String(id)}". Pick one of: ${SWARM_TEMPLATES.map((x) => x.name).join(', ')}.`);
  return t;
}

/** Which of the (sorted) nodes are managers and which workers; the first manager starts the swarm. */
export function swarmRoles(nodes: number[], t: SwarmTemplate): { first: number; managers: number[]; workers: number[] } {
  if (nodes.length !== t.managers + t.workers) throw new Error(`template ${t.id} needs ${t.managers + t.workers} nodes, got ${nodes.length}`);
  const sorted = [...nodes].sort((a, b) => a - b);
  return { first: sorted[0]!, managers: sorted.slice(1, t.managers), workers: sorted.slice(t.managers) };
}

export interface TemplateHost {
  refs(): SandboxRef[];
  addNode(): Promise<void>;
  removeNode(node: number): Promise<void>;
  exec(ref: SandboxRef, cmd: string[], timeoutMs: number): Promise<ExecResult>;
  progress(message: string): void;
}

/** Brings the playground to the template's node count, forms the swarm, and returns `docker node ls` from the first manager. */
export async function applySwarmTemplate(host: TemplateHost, t: SwarmTemplate): Promise<string> {
  const want = t.managers + t.workers;
  if (host.refs().length < want) host.progress(`Adding nodes: ${want} are needed…`);
  while (host.refs().length < want) await host.addNode();
  // Extra nodes go, the highest numbers first.
  while (host.refs().length > want) {
    const last = host.refs()[host.refs().length - 1]!;
    host.progress(`Removing node${last.node}: this template has ${want} nodes…`);
    await host.removeNode(last.node);
  }
  const refs = host.refs();
  const byNode = new Map(refs.map((r) => [r.node, r]));
  const roles = swarmRoles(refs.map((r) => r.node), t);
  const run = async (node: number, cmd: string[], what: string, timeoutMs = 60_000) => {
    const r = await host.exec(byNode.get(node)!, cmd, timeoutMs);
    if (r.exitCode !== 0) throw new AppError('sandbox_failed', `node${node}: ${what} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ') || `exit ${r.exitCode}`}`);
    return r.stdout.trim();
  };

  host.progress('Leaving any swarm the nodes were in…');
  // Errors are expected here: a node in no swarm says so and exits 1.
  await Promise.all(refs.map((r) => host.exec(r, ['docker', 'swarm', 'leave', '--force'], 30_000).catch(() => undefined)));

  host.progress(`node${roles.first}: docker swarm init --advertise-addr eth0`);
  await run(roles.first, ['docker', 'swarm', 'init', '--advertise-addr', 'eth0'], 'docker swarm init');
  const managerToken = roles.managers.length ? await run(roles.first, ['docker', 'swarm', 'join-token', '-q', 'manager'], 'reading the manager token') : '';
  const workerToken = roles.workers.length ? await run(roles.first, ['docker', 'swarm', 'join-token', '-q', 'worker'], 'reading the worker token') : '';
  const address = `node${roles.first}:2377`;
  // One at a time: a manager joining changes the quorum the next one joins through.
  for (const n of roles.managers) {
    host.progress(`node${n}: docker swarm join (manager) ${address}`);
    await run(n, ['docker', 'swarm', 'join', '--token', managerToken, address], 'joining as a manager');
  }
  for (const n of roles.workers) {
    host.progress(`node${n}: docker swarm join (worker) ${address}`);
    await run(n, ['docker', 'swarm', 'join', '--token', workerToken, address], 'joining as a worker');
  }
  return run(roles.first, ['docker', 'node', 'ls'], 'docker node ls');
}
