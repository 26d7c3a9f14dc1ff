// Adding and removing a playground's nodes while it runs. A new node is a sandbox like the first,
// on the session's private network under its node name (node2…), with the same limits and expiry;
// it counts against MAX_SANDBOXES from the moment it is asked for. One change at a time per session.
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import type { Live } from '../sessions/session-table.ts';
import { nextNode } from './play-lab.ts';

export interface PlayNodesDeps {
  driver: SandboxDriver;
  config: Pick<Config, 'limits' | 'sessionMaxMs' | 'maxSandboxes'>;
  /** Sandboxes held and wanted by queued sessions, every session counted by its nodes. */
  capacity(): { inUse: number; queued: number };
  /** Stores the session's sandboxes (restart and reaper find them there). */
  saveRefs(sessionId: string, refs: SandboxRef[]): Promise<void>;
  /** Removes a node's scrollback file. */
  forgetScrollback(sessionId: string, node: number): void;
  /** Still this replica's live session (not ended meanwhile). */
  stillLive(live: Live): boolean;
  /** Tells the session's pages. */
  changed(live: Live): void;
  log(msg: string, err?: unknown): void;
}

export interface PlayNodes {
  add(live: Live): Promise<number>;
  remove(live: Live, node: number): Promise<void>;
  /** Waits for the session's changes in flight (a template runs after them). */
  settled(live: Live): Promise<void>;
}

export function nodesOf(live: Live): number[] {
  return live.refs.map((r) => r.node).sort((a, b) => a - b);
}

export function createPlayNodes(deps: PlayNodesDeps): PlayNodes {
  const { driver, config, log } = deps;
  const chains = new WeakMap<Live, Promise<unknown>>();
  /** Node numbers being created, so two quick clicks take two numbers. */
  const pending = new WeakMap<Live, Set<number>>();

  const serial = <T>(live: Live, fn: () => Promise<T>): Promise<T> => {
    const prev = chains.get(live) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    chains.set(live, next);
    return next;
  };

  const playable = (live: Live) => {
    const play = live.lab.playground;
    if (!play) throw new AppError('bad_request', 'Only a playground session can add or remove nodes.');
    if (live.rec.phase !== 'ready') throw new AppError('bad_request', 'The playground is still starting; add nodes once its first terminal is connected.');
    return play;
  };

  const add = async (live: Live): Promise<number> => {
    const play = playable(live);
    const busy = pending.get(live) ?? new Set<number>();
    pending.set(live, busy);
    const taken = [...nodesOf(live), ...busy];
    const n = nextNode(taken, play.maxNodes);
    if (n === undefined) {
      throw new AppError('node_cap', `This playground already has ${play.maxNodes} nodes, the most one session may have. Remove a node to add another.`);
    }
    const cap = deps.capacity();
    if (cap.inUse + 1 > config.maxSandboxes || cap.queued > 0) {
      const waiting = cap.queued > 0 ? ' and others are waiting in line for one' : '';
      throw new AppError('capacity', `The server is full: all ${config.maxSandboxes} sandboxes are in use${waiting}. Your ${taken.length} node${taken.length === 1 ? '' : 's'} keep running; try adding a node again in a few minutes.`);
    }
    // Counted from now: admission and the pool see the node before it exists.
    busy.add(n);
    live.lab.terms += 1;
    let ref: SandboxRef | undefined;
    try {
      const sid = live.refs[0]?.sessionId ?? live.rec.id;
      // Idempotent: the name of the network the session's nodes already share.
      const network = await driver.createSessionNetwork(sid);
      const images = live.lab.images.filter((i) => i !== 'scratch');
      ref = await driver.create({ sessionId: sid, node: n, images, network, limits: config.limits, expiresAt: live.rec.createdAt + config.sessionMaxMs });
      // Longer than a lab start: the learner asked for this node and watches its status meanwhile.
      await driver.waitReady(ref, { images, timeoutMs: 300_000 });
      if (!deps.stillLive(live)) throw new AppError('session_expired', 'The session ended while the node was starting.');
      live.refs = [...live.refs, ref].sort((a, b) => a.node - b.node);
      await deps.saveRefs(live.rec.id, live.refs);
      live.runtime?.addNode(ref);
      return n;
    } catch (err) {
      live.lab.terms -= 1;
      if (ref && !live.refs.includes(ref)) void driver.destroy(ref).catch((e) => log(`session ${live.rec.id}: removing a failed node failed (the reaper will retry)`, e));
      if (err instanceof AppError) throw err;
      log(`session ${live.rec.id}: adding node${n} failed`, err);
      throw new AppError('sandbox_failed', `node${n} could not start. Try Add node again.`);
    } finally {
      busy.delete(n);
      deps.changed(live);
    }
  };

  const remove = async (live: Live, node: number): Promise<void> => {
    playable(live);
    const ref = live.refs.find((r) => r.node === node);
    if (!ref) throw new AppError('not_found', `This playground has no node${node}.`);
    if (live.refs.length === 1) throw new AppError('bad_request', 'A playground keeps at least one node. End session removes them all.');
    live.runtime?.removeNode(node);
    live.refs = live.refs.filter((r) => r !== ref);
    live.lab.terms -= 1;
    await deps.saveRefs(live.rec.id, live.refs);
    deps.changed(live);
    deps.forgetScrollback(live.rec.id, node);
    await driver.destroy(ref).catch((err) => log(`session ${live.rec.id}: removing node${node} failed (the reaper will retry)`, err));
  };

  return {
    add: (live) => {
      playable(live);
      return serial(live, () => add(live));
    },
    remove: (live, node) => serial(live, () => remove(live, node)),
    settled: (live) => (chains.get(live) ?? Promise.resolve()).then(() => undefined, () => undefined),
  };
}
