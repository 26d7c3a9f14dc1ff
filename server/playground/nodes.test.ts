// The node rules with a recording driver (the real engine is in e2e/playground.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SandboxDriver, SandboxRef, SandboxSpec } from '../../sandbox/driver/types.ts';
import type { Live } from '../sessions/session-table.ts';
import { createPlayNodes } from './nodes.ts';
import { playLab } from './play-lab.ts';

function setup(opts: { max?: number; inUseElsewhere?: number; queued?: number; failCreate?: boolean } = {}) {
  const created: SandboxSpec[] = [];
  const destroyed: string[] = [];
  const ref = (sessionId: string, node: number): SandboxRef => ({ id: `s${node}`, containerId: `c${node}`, name: `n${node}`, sessionId, node, socketDir: '', engineSocket: '', terminalSocket: '', workdir: '/root', expiresAt: 0 });
  const driver = {
    createSessionNetwork: async (sid: string) => `net-${sid}`,
    create: async (spec: SandboxSpec) => {
      created.push(spec);
      if (opts.failCreate) throw new Error('engine said no');
      return ref(spec.sessionId, spec.node);
    },
    waitReady: async () => {},
    destroy: async (r: SandboxRef) => void destroyed.push(r.name),
  } as unknown as SandboxDriver;
  const lab = playLab({ maxNodes: opts.max ?? 3, images: ['busybox'] });
  const live = { rec: { id: 'sess', learnerId: 'l', labId: 'play', phase: 'ready', createdAt: 0, expiresAt: 1 }, lab, refs: [ref('pool-x', 1)], listeners: new Set(), aliases: new Set(), seq: 0 } as unknown as Live;
  const saved: number[][] = [];
  const nodes = createPlayNodes({
    driver, log: () => {},
    config: { limits: { memoryMiB: 1, pids: 1, cpuShares: 1, diskGiB: 1 }, sessionMaxMs: 1000, maxSandboxes: 4 },
    capacity: () => ({ inUse: (opts.inUseElsewhere ?? 0) + live.lab.terms, queued: opts.queued ?? 0 }),
    saveRefs: async (_sid, refs) => void saved.push(refs.map((r) => r.node)),
    forgetScrollback: () => {},
    stillLive: () => true,
    changed: () => {},
  });
  return { nodes, live, created, destroyed, saved };
}

test('added nodes take the next free name on the first node\'s network and count at once', async () => {
  const { nodes, live, created, saved } = setup();
  assert.equal(await nodes.add(live), 2);
  assert.equal(created[0]!.network, 'net-pool-x');
  assert.equal(created[0]!.sessionId, 'pool-x');
  assert.equal(live.lab.terms, 2);
  assert.deepEqual(saved.at(-1), [1, 2]);
});

test('the node cap and a full server are refused with a sentence; nothing is created', async () => {
  const capped = setup({ max: 1 });
  await assert.rejects(capped.nodes.add(capped.live), (e: Error & { code?: string }) => e.code === 'node_cap' && /already has 1 nodes, the most one session may have/.test(e.message));
  const full = setup({ inUseElsewhere: 3 });
  await assert.rejects(full.nodes.add(full.live), (e: Error & { code?: string }) => e.code === 'capacity' && /The server is full: all 4 sandboxes are in use/.test(e.message));
  const queue = setup({ queued: 1 });
  await assert.rejects(queue.nodes.add(queue.live), /others are waiting in line/);
  assert.equal(capped.created.length + full.created.length + queue.created.length, 0);
});

test('a node that fails to start gives its place back', async () => {
  const { nodes, live } = setup({ failCreate: true });
  await assert.rejects(nodes.add(live), /node2 could not start/);
  assert.equal(live.lab.terms, 1);
});

test('removing frees the name and the count; the last node stays', async () => {
  const { nodes, live, destroyed } = setup();
  await nodes.add(live);
  await nodes.add(live);
  await nodes.remove(live, 2);
  assert.deepEqual(live.refs.map((r) => r.node), [1, 3]);
  assert.equal(live.lab.terms, 2);
  assert.deepEqual(destroyed, ['n2']);
  assert.equal(await nodes.add(live), 2);
  await nodes.remove(live, 2);
  await nodes.remove(live, 3);
  await assert.rejects(nodes.remove(live, 1), /keeps at least one node/);
});
