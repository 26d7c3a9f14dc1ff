// The playground's messages on a page's socket: add and remove nodes, apply a template (with
// progress), and live stats for every node about every 2 s while the page is open.
import type { SandboxDriver } from '../../sandbox/driver/types.ts';
import { AppError } from '../errors.ts';
import type { LabSocket, SocketContext } from '../realtime/socket-server.ts';
import type { SessionManager } from '../sessions/manager.ts';
import { every, type Timers } from '../timers.ts';
import { sampleNode, type HostStats } from './node-stats.ts';
import { PLAY_LAB_ID } from './play-lab.ts';
import { applySwarmTemplate, templateById } from './swarm-template.ts';
import type { StackInbox } from '../stacks/inbox.ts';
import { deployStack } from '../stacks/deploy.ts';

export const STATS_EVERY_MS = 2_000;

export interface PlaygroundSocketDeps {
  sessions: SessionManager;
  driver: SandboxDriver;
  host: HostStats;
  /** Stacks "Try it" links brought, by learner. */
  inbox: StackInbox;
  timers: Timers;
  log(msg: string, err?: unknown): void;
}

export function playgroundSocket(deps: PlaygroundSocketDeps) {
  const { sessions } = deps;
  /** A template or deploy at a time per session. */
  const busy = new Set<string>();

  return (socket: LabSocket, ctx: SocketContext): void => {
    const playSession = (): string => {
      const id = ctx.mySession();
      if (sessions.view(id).labId !== PLAY_LAB_ID) throw new AppError('bad_request', 'Only a playground session has nodes to add or remove.');
      return id;
    };

    socket.on('play:add', (_req, ack) => ctx.guard(ack, () => sessions.addNode(playSession())));
    socket.on('play:remove', (req, ack) =>
      ctx.guard(ack, () => {
        if (!req || !Number.isInteger(req.node)) throw new AppError('bad_request', 'play:remove needs a node number.');
        return sessions.removeNode(playSession(), req.node);
      }),
    );
    socket.on('play:template', (req, ack) =>
      ctx.guard(ack, async () => {
        const id = playSession();
        const t = templateById(req?.template);
        if (busy.has(id)) throw new AppError('bad_request', 'A template is already being applied to this playground; wait for it to finish.');
        busy.add(id);
        const progress = (message: string, state: 'running' | 'done' | 'failed' = 'running') => socket.emit('play:progress', { message, state });
        try {
          const nodes = await applySwarmTemplate(
            {
              refs: () => sessions.readyRefs(id),
              addNode: async () => void (await sessions.addNode(id)),
              removeNode: async (n) => void (await sessions.removeNode(id, n)),
              exec: (ref, cmd, timeoutMs) => deps.driver.exec(ref, cmd, { timeoutMs }),
              progress,
            },
            t,
          );
          progress(`Swarm ready: ${t.name}.`, 'done');
          return { nodes };
        } catch (err) {
          progress(err instanceof AppError ? err.message : 'The template could not be applied.', 'failed');
          throw err;
        } finally {
          busy.delete(id);
        }
      }),
    );

    socket.on('play:deploy', (_req, ack) =>
      ctx.guard(ack, async () => {
        const id = playSession();
        const stack = deps.inbox.take(ctx.learnerId);
        if (!stack) throw new AppError('not_found', 'There is no stack waiting for this playground (it was deployed already, or the link is older than 15 minutes). Open the link again.');
        const ref = sessions.readyRefs(id)[0];
        if (!ref) throw new AppError('bad_request', 'The playground has no node ready yet.');
        const progress = (message: string, state: 'running' | 'done' | 'failed' = 'running') => socket.emit('play:progress', { message, state });
        try {
          const output = await deployStack(deps.driver, ref, stack, (m) => progress(m));
          progress(`Stack ${stack.plan.name} deployed.`, 'done');
          return { output };
        } catch (err) {
          progress(err instanceof AppError ? err.message : 'The stack could not be deployed.', 'failed');
          throw err;
        }
      }),
    );

    // Stats while this page shows a ready playground. One round at a time: a slow engine skips ticks.
    let sampling = false;
    const stop = every(deps.timers, STATS_EVERY_MS, () => {
      const id = ctx.sessionId();
      if (sampling || !id || !sessions.owns(ctx.learnerId, id)) return;
      const refs = sessions.readyRefs(id);
      if (!refs.length || sessions.view(id).labId !== PLAY_LAB_ID) return;
      sampling = true;
      Promise.all(refs.map((r) => sampleNode({ host: deps.host, driver: deps.driver }, r)))
        .then((stats) => socket.emit('play:stats', stats))
        .catch((err) => deps.log(`session ${id}: node stats failed`, err))
        .finally(() => (sampling = false));
    });
    socket.on('disconnect', stop);
  };
}
