// The /workshop socket.io namespace, beside the learners' main one:
// - learner pages hear the host's messages, that they are being watched, and hints;
// - the host's instructor view gets its grid pushed live, watches a learner's terminal read-only,
//   resets a sandbox and talks to the room.
import crypto from 'node:crypto';
import type { Namespace, Server, Socket } from 'socket.io';
import { AppError, toErrorPayload } from '../errors.ts';
import { isHostCookie } from '../http/host-auth.ts';
import { COOKIE_NAME, readCookie, verifyId } from '../http/learner-cookie.ts';
import type { Ack } from '../protocol/realtime.ts';
import type { HintView, WorkshopClientToServer, WorkshopServerToClient } from '../protocol/workshop.ts';
import type { SessionManager } from '../sessions/manager.ts';
import type { Workshop } from './workshop.ts';
import { every, type Timers } from '../timers.ts';

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
  log(msg: string, err?: unknown): void;
}

export interface WorkshopSocket {
  /** Sends a hint to a learner's pages of that lab. */
  hint(learnerId: string, hint: HintView): void;
  dispose(): void;
}

export function attachWorkshopNamespace(io: Server, deps: WorkshopSocketDeps): WorkshopSocket {
  const nsp: Namespace<WorkshopClientToServer, WorkshopServerToClient> = io.of('/workshop');
  /** Host sockets watching each session's terminal: the learner is told while there are any. */
  const watchers = new Map<string, Set<string>>();
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

  /** The learner's session this replica serves: watching and resetting need its terminals, which live here. */
  async function servedHere(learnerId: string, labId: string) {
    const session = deps.sessions.liveSessionOf(learnerId, labId);
    if (session) return session;
    if (await deps.workshop.hasLiveSession(learnerId, labId)) {
      throw new AppError('not_found', 'Another server replica serves this learner\'s sandbox: open the host view through that replica to watch or reset it.');
    }
    throw new AppError('not_found', 'This learner has no running sandbox for that lab.');
  }

  const watchedBy = (learnerId: string, labId: string) => {
    const sid = deps.sessions.liveSessionOf(learnerId, labId)?.id;
    return !!sid && (watchers.get(sid)?.size ?? 0) > 0;
  };

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
      if (watchedBy(learnerId, req.labId)) socket.emit('workshop:watched', { labId: req.labId, watched: true });
      for (const h of deps.hintsFor(learnerId, req.labId)) socket.emit('workshop:hint', h);
    });
  }

  function wireHost(socket: WSocket): void {
    let stopGrid: (() => void) | undefined;
    let unwatch: (() => void) | undefined;
    const viewerId = `host-${crypto.randomBytes(6).toString('hex')}`;

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

    const stopWatching = () => {
      unwatch?.();
      unwatch = undefined;
    };

    socket.on('host:watch', (req, ack) =>
      guard(ack, async () => {
        if (!req || typeof req.learnerId !== 'string' || typeof req.labId !== 'string') throw new AppError('bad_request', 'host:watch needs a learner and a lab.');
        const node = Number.isInteger(req.node) ? req.node! : 1;
        const session = await servedHere(req.learnerId, req.labId);
        stopWatching();
        const sid = session.id;
        const learnerRoom = `learner:${req.learnerId}:${req.labId}`;
        let attachedTo: ReturnType<SessionManager['terminal']>;
        const attach = () => {
          const t = deps.sessions.terminal(sid, node);
          if (!t || t === attachedTo) return;
          attachedTo?.removeViewer(viewerId);
          attachedTo = t;
          // Read-only: this viewer has no input path; it acks like a browser so it never stalls the learner.
          t.addViewer({
            id: viewerId,
            data: (data) => socket.emit('watch:data', { data }),
            replay: (data) => socket.emit('watch:replay', { data }),
            state: (state, message) => socket.emit('watch:state', { state, message }),
          });
        };
        attach();
        // After a reset the session gets new terminals: follow them.
        const unsub = deps.sessions.subscribe(sid, { update: (v) => v.phase === 'ready' && attach(), checks: () => {} });
        const set = watchers.get(sid) ?? new Set();
        set.add(viewerId);
        watchers.set(sid, set);
        nsp.to(learnerRoom).emit('workshop:watched', { labId: req.labId, watched: true });
        unwatch = () => {
          unsub();
          attachedTo?.removeViewer(viewerId);
          set.delete(viewerId);
          if (!set.size) {
            watchers.delete(sid);
            nsp.to(learnerRoom).emit('workshop:watched', { labId: req.labId, watched: false });
          }
        };
        const name = await deps.workshop.nameOf(req.learnerId);
        return { title: `${name ?? req.learnerId.slice(0, 8)} — node${node}` };
      }),
    );

    socket.on('host:ack', (req) => {
      if (!req || typeof req.chars !== 'number' || !unwatch) return;
      for (const [sid, set] of watchers) if (set.has(viewerId)) for (let n = 1; n <= 6; n++) deps.sessions.terminal(sid, n)?.ack(viewerId, req.chars);
    });

    socket.on('host:unwatch', stopWatching);

    socket.on('host:reset', (req, ack) =>
      guard(ack, async () => {
        if (!req || typeof req.learnerId !== 'string' || typeof req.labId !== 'string') throw new AppError('bad_request', 'host:reset needs a learner and a lab.');
        const session = await servedHere(req.learnerId, req.labId);
        nsp.to(`learner:${req.learnerId}:${req.labId}`).emit('workshop:notice', { message: 'The workshop host is giving you a fresh sandbox. Your progress is kept.' });
        const v = await deps.sessions.reset(session.id);
        return { phase: v.phase };
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
    },
  };
}
