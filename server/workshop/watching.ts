// The serving side of "watch a learner's terminal": the replica that holds the learner's terminal
// attaches a read-only viewer and sends its output to the socket.io room `watch:<viewerId>`. The
// host's socket joins that room on whichever replica it is connected to; with the Redis adapter the
// room spans replicas, so the host view and the learner need not share one. A watch whose room is
// empty (the host's page or its whole replica gone) is dropped at the next sweep, so a dead watcher
// never holds up the learner's terminal through flow control.
import type { Namespace } from 'socket.io';
import type { SessionManager } from '../sessions/manager.ts';
import type { WorkshopClientToServer, WorkshopServerToClient } from '../protocol/workshop.ts';
import { every, type Timers } from '../timers.ts';

export interface WatchRequest {
  viewerId: string;
  learnerId: string;
  labId: string;
  node: number;
}

export interface Watching {
  /** Attaches the viewer when this replica serves the learner's session; false when it does not. */
  start(req: WatchRequest): boolean;
  ack(viewerId: string, chars: number): void;
  stop(viewerId: string): void;
  /** Whether anyone watches this learner's session of this lab (their page shows a banner). */
  watched(learnerId: string, labId: string): boolean;
  /** Drops watches nobody receives any more. */
  sweep(): Promise<void>;
  dispose(): void;
}

export const watchRoom = (viewerId: string) => `watch:${viewerId}`;

export function isWatchRequest(x: unknown): x is WatchRequest {
  const r = x as WatchRequest | undefined;
  return !!r && typeof r.viewerId === 'string' && r.viewerId.length <= 64 && typeof r.learnerId === 'string' && typeof r.labId === 'string' && Number.isInteger(r.node) && r.node >= 1 && r.node <= 6;
}

export function createWatching(deps: {
  nsp: Namespace<WorkshopClientToServer, WorkshopServerToClient>;
  sessions: SessionManager;
  timers: Timers;
  sweepMs: number;
  log(msg: string, err?: unknown): void;
}): Watching {
  const { nsp, sessions } = deps;
  /** viewerId → what it watches and how to stop. */
  const viewers = new Map<string, { sid: string; node: number; stop(): void }>();
  /** sessionId → its viewers, for the learner's "you are being watched" banner. */
  const bySession = new Map<string, Set<string>>();

  function start(req: WatchRequest): boolean {
    const session = sessions.liveSessionOf(req.learnerId, req.labId);
    if (!session) return false;
    stop(req.viewerId);
    const { viewerId, node } = req;
    const sid = session.id;
    const room = nsp.to(watchRoom(viewerId));
    const learnerRoom = `learner:${req.learnerId}:${req.labId}`;
    let attachedTo: ReturnType<SessionManager['terminal']>;
    const attach = () => {
      const t = sessions.terminal(sid, node);
      if (!t || t === attachedTo) return;
      attachedTo?.removeViewer(viewerId);
      attachedTo = t;
      // Read-only: this viewer has no input path. The host page acks what it rendered.
      t.addViewer({
        id: viewerId,
        data: (data) => room.emit('watch:data', { data }),
        replay: (data) => room.emit('watch:replay', { data }),
        state: (state, message) => room.emit('watch:state', { state, message }),
      });
    };
    attach();
    // After a reset the session gets new terminals: follow them.
    const unsub = sessions.subscribe(sid, { update: (v) => v.phase === 'ready' && attach(), checks: () => {} });
    const set = bySession.get(sid) ?? new Set();
    set.add(viewerId);
    bySession.set(sid, set);
    nsp.to(learnerRoom).emit('workshop:watched', { labId: req.labId, watched: true });
    viewers.set(viewerId, {
      sid,
      node,
      stop: () => {
        unsub();
        attachedTo?.removeViewer(viewerId);
        set.delete(viewerId);
        if (!set.size) {
          bySession.delete(sid);
          nsp.to(learnerRoom).emit('workshop:watched', { labId: req.labId, watched: false });
        }
      },
    });
    return true;
  }

  function stop(viewerId: string): void {
    const v = viewers.get(viewerId);
    if (!v) return;
    viewers.delete(viewerId);
    v.stop();
  }

  async function sweep(): Promise<void> {
    for (const id of [...viewers.keys()]) {
      // Asks every replica (through the adapter); one that does not answer in time keeps the watch for now.
      const receivers = await nsp.in(watchRoom(id)).fetchSockets().then((s) => s.length, () => 1);
      if (receivers === 0) stop(id);
    }
  }

  const stopSweeping = every(deps.timers, deps.sweepMs, () => void sweep().catch((err) => deps.log('watch sweep failed', err)));

  return {
    start,
    ack(viewerId, chars) {
      const v = viewers.get(viewerId);
      if (v) sessions.terminal(v.sid, v.node)?.ack(viewerId, chars);
    },
    stop,
    watched(learnerId, labId) {
      const sid = sessions.liveSessionOf(learnerId, labId)?.id;
      return !!sid && (bySession.get(sid)?.size ?? 0) > 0;
    },
    sweep,
    dispose() {
      stopSweeping();
      for (const id of [...viewers.keys()]) stop(id);
    },
  };
}
