// socket.io: one connection per page. It authenticates the learner from the signed cookie,
// checks the Origin, validates every message, and wires terminals and checks to the page.
import type { LearnerLimits } from '../http/learner-limits.ts';
import type http from 'node:http';
import crypto from 'node:crypto';
import { Server, type Socket } from 'socket.io';
import type { SessionManager } from '../sessions/manager.ts';
import type { Config } from '../config.ts';
import { TUNING } from '../config.ts';
import { AppError, toErrorPayload } from '../errors.ts';
import { COOKIE_NAME, readCookie, verifyId } from '../http/learner-cookie.ts';
import type { Ack, ClientToServer, ServerToClient, SessionView } from '../protocol/realtime.ts';
import { validTerm, clampSize } from './validate.ts';

export type LabSocket = Socket<ClientToServer, ServerToClient>;

export interface SocketServerDeps {
  config: Config;
  sessions: SessionManager;
  secret: string;
  /** Per-learner caps and rates (server/http/learner-limits.ts); none = unlimited (tests). */
  limits?: LearnerLimits;
  /** The client's address as the HTTP side sees it (trusted proxies' X-Forwarded-For honoured). */
  clientAddress?(req: import('node:http').IncomingMessage): string;
  /** Whether joining this lab would create a session (so the caps only count new ones). */
  wouldCreate?(learnerId: string, labId: string): boolean | Promise<boolean>;
  /** The learner joined a workshop event that is running now (see learner-limits admitSession). */
  inEvent?(learnerId: string): Promise<boolean>;
  /** More handlers on each page's socket (the playground's), given who it is and its session. */
  extensions?: ((socket: LabSocket, ctx: SocketContext) => void)[];
  log(msg: string, err?: unknown): void;
}

const variablesRoom = (learnerId: string, labId: string) => `vars:${learnerId}:${labId}`;

export interface SocketContext {
  learnerId: string;
  /** The page's session, when it owns one (throws a clear AppError otherwise). */
  mySession(): string;
  /** The page's session id as last joined, owned or not. */
  sessionId(): string | undefined;
  /** Answers an ack with a value or an AppError's payload. */
  guard<T>(ack: Ack<T> | undefined, fn: () => T | Promise<T>): void;
}

/** Same-origin unless the host configured others: a page elsewhere must not drive a learner's shell. */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined, allowed: string[]): boolean {
  if (!origin) return false;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === hostHeader;
  } catch {
    return false;
  }
}

export function createSocketServer(httpServer: http.Server, deps: SocketServerDeps): { io: Server; dispose(): Promise<void> } {
  const io = new Server<ClientToServer, ServerToClient>(httpServer, {
    maxHttpBufferSize: TUNING.maxSocketMessageBytes,
    serveClient: false,
    // Port links relay WebSocket upgrades of their own (server.ts); unknown upgrades are closed there.
    destroyUpgrade: false,
    pingInterval: 10_000,
    pingTimeout: 10_000,
    allowRequest: (req, cb) => {
      const ok = originAllowed(req.headers.origin, req.headers.host, deps.config.allowedOrigins);
      cb(ok ? null : 'origin not allowed', ok);
    },
  });

  io.use((socket, next) => {
    const learnerId = verifyId(readCookie(socket.handshake.headers.cookie, COOKIE_NAME), deps.secret);
    if (!learnerId) return next(new Error('Open the lab page first: this connection has no learner cookie.'));
    socket.data.learnerId = learnerId;
    next();
  });

  io.on('connection', (socket: LabSocket) => wire(socket, deps));

  return {
    io,
    dispose: () => new Promise<void>((resolve) => {
      io.close(() => resolve());
    }),
  };
}

function wire(socket: LabSocket, deps: SocketServerDeps): void {
  const learnerId: string = socket.data.learnerId;
  const viewerId = crypto.randomBytes(6).toString('hex');
  let sessionId: string | undefined;
  /** The lab this page joined: it hears of values the learner sets in other pages of it. */
  let joinedLab: string | undefined;
  let cleanup: (() => void)[] = [];

  /** Terminals this page watches, by node: a playground's nodes come and go while it runs. */
  const watching = new Map<number, () => void>();
  const detachTerminals = () => {
    for (const stop of watching.values()) stop();
    watching.clear();
  };
  const detach = () => {
    for (const c of cleanup) c();
    cleanup = [];
    detachTerminals();
  };

  const attachTerminals = (v: SessionView) => {
    const nodes = v.nodes ?? Array.from({ length: v.terms }, (_, i) => i + 1);
    for (const [n, stop] of watching) {
      if (!nodes.includes(n)) {
        stop();
        watching.delete(n);
      }
    }
    for (const n of nodes) {
      if (watching.has(n)) continue;
      const t = deps.sessions.terminal(sessionId!, n);
      if (!t) continue;
      const id = `${viewerId}:${n}`;
      t.addViewer({
        id,
        data: (data) => socket.emit('term:data', { term: n, data }),
        replay: (data) => socket.emit('term:replay', { term: n, data }),
        state: (state, message) => socket.emit('term:state', { term: n, state, message }),
      });
      watching.set(n, () => t.removeViewer(id));
    }
  };

  const guard = <T>(ack: Ack<T> | undefined, fn: () => T | Promise<T>) => {
    if (typeof ack !== 'function') return; // a client that wants no answer gets none
    Promise.resolve()
      .then(fn)
      .then(
        (value) => ack({ ok: true, value }),
        (err) => {
          if (!(err instanceof AppError)) deps.log(`socket request failed for learner ${learnerId}`, err);
          ack({ ok: false, error: toErrorPayload(err) });
        },
      );
  };

  const mySession = (): string => {
    if (!sessionId || !deps.sessions.owns(learnerId, sessionId)) throw new AppError('session_expired', 'This session has ended. Reload the page to start a new one.');
    return sessionId;
  };

  const address = deps.clientAddress?.(socket.request) ?? socket.handshake.address;

  socket.on('session:join', (req, ack) =>
    guard(ack, async () => {
      if (!req || typeof req.labId !== 'string' || req.labId.length > 200) throw new AppError('bad_request', 'session:join needs a labId.');
      const creating = !!deps.limits && ((await deps.wouldCreate?.(learnerId, req.labId)) ?? true);
      const inEvent = creating && ((await deps.inEvent?.(learnerId)) ?? false);
      if (creating) await deps.limits!.admitSession(learnerId, address, { inEvent });
      detach();
      // The caps again, atomically with the insert: two joins at once (tabs, replicas) cannot both pass.
      const caps = creating ? { address, perLearner: deps.config.learnerLimits.sessionsPerLearner, perAddress: inEvent ? undefined : deps.config.learnerLimits.sessionsPerAddress } : undefined;
      const view = await deps.sessions.join(learnerId, req.labId, caps);
      if (creating) deps.limits!.sessionStarted(view.id, address);
      sessionId = view.id;
      let attached = view.phase === 'ready';
      const unsub = deps.sessions.subscribe(view.id, {
        update: (v) => {
          socket.emit('session:update', v);
          // A reset by the host takes the session back through "starting": attach to the new terminals.
          if (v.phase !== 'ready' && attached) {
            attached = false;
            detachTerminals();
          }
          if (v.phase === 'ready' && (!attached || v.nodes)) {
            attached = true;
            attachTerminals(v);
          }
        },
        checks: (views) => socket.emit('check:update', views),
      });
      cleanup.push(unsub);
      if (attached) attachTerminals(view);
      // The learner's other pages of this lab hear about values set here (rooms span replicas).
      if (joinedLab !== req.labId) {
        if (joinedLab) void socket.leave(variablesRoom(learnerId, joinedLab));
        joinedLab = req.labId;
        void socket.join(variablesRoom(learnerId, req.labId));
      }
      return { session: view, checks: await deps.sessions.progress(learnerId, req.labId), variables: await deps.sessions.variables.values(learnerId, req.labId) };
    }),
  );

  socket.on('session:extend', (_req, ack) => guard(ack, () => deps.sessions.extend(mySession())));
  socket.on('session:end', (_req, ack) => guard(ack, () => deps.sessions.end(mySession())));

  socket.on('term:input', (req) => {
    if (!sessionId || !req || typeof req.data !== 'string' || !validTerm(req.term)) return;
    if (req.data.length > TUNING.maxInputChunk) {
      socket.emit('notice', { level: 'warn', message: 'That input was too large to send at once and was dropped.' });
      return;
    }
    const term = deps.sessions.terminal(sessionId, req.term);
    if (!deps.limits) return void term?.input(req.data);
    // Order is kept: the limiter answers from memory, in the order the messages came.
    void deps.limits.input(learnerId, Buffer.byteLength(req.data)).then((ok) => {
      if (ok) term?.input(req.data);
      else socket.emit('notice', { level: 'warn', message: 'You are sending input faster than this server accepts (RATE_INPUT_BYTES_PER_SEC); some of it was dropped. Wait a moment, then go on.' });
    });
  });

  socket.on('term:resize', (req) => {
    if (!sessionId || !req || !validTerm(req.term)) return;
    const size = clampSize(req.cols, req.rows);
    if (!size) return;
    deps.sessions.terminal(sessionId, req.term)?.resize(size.cols, size.rows);
  });

  socket.on('term:ack', (req) => {
    if (!sessionId || !req || !validTerm(req.term) || typeof req.chars !== 'number') return;
    deps.sessions.terminal(sessionId, req.term)?.ack(`${viewerId}:${req.term}`, req.chars);
  });

  socket.on('checks:run', (req, ack) =>
    guard(ack, async () => {
      if (!req || typeof req.stepId !== 'string' || req.stepId.length > 100) throw new AppError('bad_request', 'checks:run needs a stepId.');
      const id = mySession();
      await deps.limits?.checkRun(learnerId, address);
      return deps.sessions.runStep(id, req.stepId);
    }),
  );

  socket.on('step:setup', (req, ack) =>
    guard(ack, async () => {
      if (!req || typeof req.stepId !== 'string' || req.stepId.length > 100) throw new AppError('bad_request', 'step:setup needs a stepId.');
      return deps.sessions.stepSetup(mySession(), req.stepId);
    }),
  );

  socket.on('vars:set', (req, ack) =>
    guard(ack, async () => {
      // The lab comes with the request: a set sent while reconnecting may arrive before the page joins again.
      if (!req || typeof req.labId !== 'string' || req.labId.length > 200) throw new AppError('bad_request', 'vars:set needs a labId.');
      const labId = req.labId;
      // Values are typed into the shell later: they count as terminal input, at least 1 KiB a set,
      // so a page that floods sets is slowed like one that floods keystrokes (each set is a write).
      const cost = Math.max(1024, Buffer.byteLength(JSON.stringify(req.values ?? null).slice(0, 1 << 20)));
      if (deps.limits && !(await deps.limits.input(learnerId, cost))) throw new AppError('rate_limited', 'You are setting values faster than this server accepts; wait a moment, then set it again.');
      const values = await deps.sessions.variables.set(learnerId, labId, req.values);
      socket.to(variablesRoom(learnerId, labId)).emit('vars:update', { labId, values });
      return values;
    }),
  );

  socket.on('block:ran', (req) => {
    if (!sessionId || !req || typeof req.stepId !== 'string' || req.stepId.length > 100) return;
    deps.sessions.stepStarted(sessionId, req.stepId);
  });

  for (const extend of deps.extensions ?? []) extend(socket, { learnerId, mySession, sessionId: () => sessionId, guard });

  socket.on('disconnect', detach);
}
