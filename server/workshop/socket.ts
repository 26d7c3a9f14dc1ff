// The /workshop socket.io namespace, beside the learners' main one:
// - learner pages hear the host's messages, that they are being watched, and hints;
// - the host's instructor view gets its grid pushed live, watches a learner's terminal read-only,
//   resets a sandbox and talks to the room.
import crypto from 'node:crypto';
import type { Namespace, Server, Socket } from 'socket.io';
import { AppError, toErrorPayload } from '../errors.ts';
import { isHostCookie } from '../http/host-auth.ts';
import { COOKIE_NAME, readCookie, verifyId } from '../http/learner-cookie.ts';
import type { Ack, SessionView } from '../protocol/realtime.ts';
import type { HintView, WorkshopClientToServer, WorkshopServerToClient } from '../protocol/workshop.ts';
import type { SessionManager } from '../sessions/manager.ts';
import type { Workshop } from './workshop.ts';
import { every, type Timers } from '../timers.ts';
import { createWatching, isWatchRequest, watchRoom, type WatchRequest } from './watching.ts';

export type { HintView, WorkshopClientToServer, WorkshopServerToClient } from '../protocol/workshop.ts';

type WSocket = Socket<WorkshopClientToServer, WorkshopServerToClient>;

export interface WorkshopSocketDeps {
  workshop: Workshop;
  sessions: SessionManager;
  hostToken: string | undefined;
  secret: string;
  /** Hints already due for a learner in a lab (sent when their page connects). */
  hintsFor(learnerId: string, labId: string): HintView[];
  gridPushMs: number;
  /** The clock (event ends, message times) and the grid push timer. */
  timers: Timers;
  /**
   * Replicas share socket.io through the Redis adapter: a host view on one replica watches and
   * resets learners served by another (the request goes to them with serverSideEmit).
   */
  crossReplica: boolean;
  log(msg: string, err?: unknown): void;
}

/** How a replica asks the one serving a learner; it answers within the adapter's request timeout. */
interface RelayEvents {
  'relay:watch': (req: WatchRequest, answer: (served: boolean) => void) => void;
  'relay:ack': (m: { viewerId: string; chars: number }) => void;
  'relay:unwatch': (viewerId: string) => void;
  'relay:reset': (req: { learnerId: string; labId: string }, answer: (phase: string | null) => void) => void;
}

export interface WorkshopSocket {
  /** Sends a hint to a learner's pages of that lab. */
  hint(learnerId: string, hint: HintView): void;
  dispose(): void;
}

export function attachWorkshopNamespace(io: Server, deps: WorkshopSocketDeps): WorkshopSocket {
  const nsp: Namespace<WorkshopClientToServer, WorkshopServerToClient, RelayEvents> = io.of('/workshop');
  const watching = createWatching({ nsp, sessions: deps.sessions, timers: deps.timers, sweepMs: 15_000, log: deps.log });
  /** Stops the grid pushes of every connected host view. */
  const gridStops = new Set<() => void>();

  nsp.use((socket, next) => {
    const cookie = socket.handshake.headers.cookie;
    if ((socket.handshake.auth as { role?: string } | undefined)?.role === 'host') {
      if (!isHostCookie(cookie, deps.hostToken, deps.secret)) return next(new Error('Only the workshop host may open this view: open the host link first.'));
      socket.data.host = true;
      return next();
    }
    const learnerId = verifyId(readCookie(cookie, COOKIE_NAME), deps.secret);
    if (!learnerId) return next(new Error('Open the lab page first: this connection has no learner cookie.'));
    socket.data.learnerId = learnerId;
    next();
  });

  nsp.on('connection', (socket: WSocket) => (socket.data.host ? wireHost(socket) : wireLearner(socket)));

  /** Ends here when nobody serves the learner; the message says which of the two it is. */
  async function noSandbox(learnerId: string, labId: string): Promise<never> {
    if (await deps.workshop.hasLiveSession(learnerId, labId)) {
      throw new AppError('not_found', deps.crossReplica
        ? 'The server replica serving this learner did not answer; try again in a moment.'
        : 'Another server replica serves this learner\'s sandbox: open the host view through that replica to watch or reset it.');
    }
    throw new AppError('not_found', 'This learner has no running sandbox for that lab.');
  }

  /** Asks the other replicas; true when one of them answered yes. */
  const askOthers = async <T>(ask: () => Promise<T[]>, yes: (a: T) => boolean): Promise<T | undefined> => {
    if (!deps.crossReplica) return undefined;
    const answers = await ask().catch((err) => (deps.log('workshop: asking the other replicas failed', err), [] as T[]));
    return answers.find(yes);
  };

  // What the other replicas ask of the one serving a learner.
  nsp.on('relay:watch', (req, answer) => {
    if (typeof answer === 'function') answer(isWatchRequest(req) && watching.start(req));
  });
  nsp.on('relay:ack', (m) => {
    if (m && typeof m.viewerId === 'string' && typeof m.chars === 'number') watching.ack(m.viewerId, m.chars);
  });
  nsp.on('relay:unwatch', (viewerId) => typeof viewerId === 'string' && watching.stop(viewerId));
  nsp.on('relay:reset', (req, answer) => {
    if (typeof answer !== 'function') return;
    if (!req || typeof req.learnerId !== 'string' || typeof req.labId !== 'string') return answer(null);
    resetHere(req.learnerId, req.labId).then(answer, (err) => (deps.log('workshop: reset asked by another replica failed', err), answer(null)));
  });

  /** Resets the learner's sandbox when this replica serves it; null when it does not. */
  async function resetHere(learnerId: string, labId: string): Promise<string | null> {
    const session = deps.sessions.liveSessionOf(learnerId, labId);
    if (!session) return null;
    nsp.to(`learner:${learnerId}:${labId}`).emit('workshop:notice', { message: 'The workshop host is giving you a fresh sandbox. Your progress is kept.' });
    return (await deps.sessions.reset(session.id)).phase;
  }

  function wireLearner(socket: WSocket): void {
    const learnerId: string = socket.data.learnerId;
    void socket.join(`learner:${learnerId}`);
    const now = deps.timers.now();
    // The event rooms and their last message; a database hiccup costs this page the banner, not its socket.
    void (async () => {
      for (const ev of await deps.workshop.events.eventsOf(learnerId)) {
        if (ev.endsAt < now) continue;
        void socket.join(`event:${ev.id}`);
        const last = await deps.workshop.events.lastMessage(ev.id);
        if (last) socket.emit('workshop:message', { eventId: ev.id, eventName: ev.name, text: last.text, at: last.at });
      }
    })().catch((err) => deps.log('workshop: event rooms of a learner page', err));
    socket.on('learner:lab', (req) => {
      if (!req || typeof req.labId !== 'string' || req.labId.length > 200) return;
      void socket.join(`learner:${learnerId}:${req.labId}`);
      if (watching.watched(learnerId, req.labId)) socket.emit('workshop:watched', { labId: req.labId, watched: true });
      for (const h of deps.hintsFor(learnerId, req.labId)) socket.emit('workshop:hint', h);
    });
  }

  function wireHost(socket: WSocket): void {
    let stopGrid: (() => void) | undefined;

    const guard = <T>(ack: Ack<T> | undefined, fn: () => T | Promise<T>) => {
      if (typeof ack !== 'function') return;
      Promise.resolve()
        .then(fn)
        .then(
          (value) => ack({ ok: true, value }),
          (err) => {
            if (!(err instanceof AppError)) deps.log('host request failed', err);
            ack({ ok: false, error: toErrorPayload(err) });
          },
        );
    };

    socket.on('host:event', (req, ack) =>
      guard(ack, async () => {
        if (!req || typeof req.eventId !== 'string') throw new AppError('bad_request', 'host:event needs an eventId.');
        const ev = await deps.workshop.events.event(req.eventId);
        if (!ev) throw new AppError('not_found', 'There is no such event.');
        if (stopGrid) {
          stopGrid();
          gridStops.delete(stopGrid);
        }
        // Computed on the server every tick and sent only when it changed: cheap for 200 learners,
        // and it also moves the "stuck for N min" figures along without any event to trigger it.
        let last = '';
        const push = async () => {
          const g = await deps.workshop.grid(ev.id);
          const json = JSON.stringify(g);
          if (json !== last) {
            last = json;
            socket.emit('workshop:grid', g);
          }
          return g;
        };
        // A failed tick (the database away for a moment) is retried by the next one.
        stopGrid = every(deps.timers, deps.gridPushMs, () => void push().catch((err) => deps.log('grid push failed', err)));
        gridStops.add(stopGrid);
        return push();
      }),
    );

    /** The current watch: how to ack its output and how to stop it (here or on the serving replica). */
    let current: { viewerId: string; ack(chars: number): void; stop(): void } | undefined;
    const stopWatching = () => {
      current?.stop();
      current = undefined;
    };

    socket.on('host:watch', (req, ack) =>
      guard(ack, async () => {
        if (!req || typeof req.learnerId !== 'string' || typeof req.labId !== 'string') throw new AppError('bad_request', 'host:watch needs a learner and a lab.');
        const node = Number.isInteger(req.node) && req.node! >= 1 && req.node! <= 6 ? req.node! : 1;
        stopWatching();
        // A fresh id per watch, so a late message about the previous one cannot touch this one.
        const w: WatchRequest = { viewerId: `host-${crypto.randomBytes(6).toString('hex')}`, learnerId: req.learnerId, labId: req.labId, node };
        const room = watchRoom(w.viewerId);
        await socket.join(room);
        const leave = () => void socket.leave(room);
        if (watching.start(w)) {
          current = { viewerId: w.viewerId, ack: (chars) => watching.ack(w.viewerId, chars), stop: () => (watching.stop(w.viewerId), leave()) };
        } else if (await askOthers(() => nsp.serverSideEmitWithAck('relay:watch', w), (served) => served === true)) {
          current = {
            viewerId: w.viewerId,
            ack: (chars) => nsp.serverSideEmit('relay:ack', { viewerId: w.viewerId, chars }),
            stop: () => (nsp.serverSideEmit('relay:unwatch', w.viewerId), leave()),
          };
        } else {
          leave();
          await noSandbox(req.learnerId, req.labId);
        }
        const name = await deps.workshop.nameOf(req.learnerId);
        return { title: `${name ?? req.learnerId.slice(0, 8)} — node${node}` };
      }),
    );

    socket.on('host:ack', (req) => {
      if (!req || typeof req.chars !== 'number') return;
      current?.ack(req.chars);
    });

    socket.on('host:unwatch', stopWatching);

    socket.on('host:reset', (req, ack) =>
      guard(ack, async () => {
        if (!req || typeof req.learnerId !== 'string' || typeof req.labId !== 'string') throw new AppError('bad_request', 'host:reset needs a learner and a lab.');
        const r = { learnerId: req.learnerId, labId: req.labId };
        const phase = (await resetHere(r.learnerId, r.labId)) ?? (await askOthers(() => nsp.serverSideEmitWithAck('relay:reset', r), (p) => typeof p === 'string'));
        if (!phase) return noSandbox(r.learnerId, r.labId);
        return { phase: phase as SessionView['phase'] };
      }),
    );

    socket.on('host:broadcast', (req, ack) =>
      guard(ack, async () => {
        if (!req || typeof req.eventId !== 'string' || typeof req.text !== 'string') throw new AppError('bad_request', 'host:broadcast needs an event and a text.');
        const text = req.text.trim().slice(0, 500);
        if (!text) throw new AppError('bad_request', 'Type a message first.');
        const ev = await deps.workshop.events.event(req.eventId);
        if (!ev) throw new AppError('not_found', 'There is no such event.');
        const m = await deps.workshop.events.addMessage(ev.id, text, deps.timers.now());
        const room = `event:${ev.id}`;
        nsp.to(room).emit('workshop:message', { eventId: ev.id, eventName: ev.name, text: m.text, at: m.at });
        // The count spans replicas when the Redis adapter is on (it asks the others); if one does not
        // answer in time, this replica's own pages are the figure shown.
        const sent = await nsp.in(room).fetchSockets().then((s) => s.length, () => nsp.adapter.rooms.get(room)?.size ?? 0);
        return { sent };
      }),
    );

    socket.on('disconnect', () => {
      stopWatching();
      if (stopGrid) {
        stopGrid();
        gridStops.delete(stopGrid);
      }
    });
  }

  return {
    hint(learnerId, h) {
      nsp.to(`learner:${learnerId}:${h.labId}`).emit('workshop:hint', h);
    },
    dispose() {
      for (const stop of gridStops) stop();
      gridStops.clear();
      watching.dispose();
    },
  };
}
