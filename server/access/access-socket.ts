// The /access namespace. The owner's page (learner cookie, owner of the session) makes and revokes
// share links and ssh credentials and sees who is in, live. A guest (auth: { share: <token> }) sees
// the session's terminals; a read-write guest types into them, a read-only guest's input is refused
// here, whatever their page does. A guest's input counts against the owner's input rate.
import crypto from 'node:crypto';
import type { Namespace, Server, Socket } from 'socket.io';
import { TUNING } from '../config.ts';
import { AppError, toErrorPayload } from '../errors.ts';
import type { LearnerLimits } from '../http/learner-limits.ts';
import { COOKIE_NAME, readCookie, verifyId } from '../http/learner-cookie.ts';
import type { AccessClientToServer, AccessServerToClient, AccessStateView } from '../protocol/access.ts';
import type { Ack } from '../protocol/realtime.ts';
import type { AccessService } from './access-service.ts';
import type { ShareLink } from './access-store.ts';
import type { SessionInfo, SessionPort, SharedTerminal } from './session-port.ts';

type ASocket = Socket<AccessClientToServer, AccessServerToClient>;
type ANamespace = Namespace<AccessClientToServer, AccessServerToClient>;

export interface AccessSocketDeps {
  access: AccessService;
  sessions: SessionPort;
  secret: string;
  limits?: LearnerLimits;
  /** The ssh server's port, when it listens. */
  sshPort(): number | undefined;
  log(msg: string, err?: unknown): void;
}

const ownerRoom = (sid: string) => `owner:${sid}`;
export const linkRoom = (linkId: string) => `link:${linkId}`;
/** A guest whose page is this far behind the terminal's output (chars not acked) is sent away. */
const GUEST_MAX_BEHIND = 2 * TUNING.flowHighWatermark;
/** A read-only guest who keeps typing hears why at most this often. */
const READ_ONLY_NOTICE_MS = 5_000;

export function attachAccessNamespace(io: Server, deps: AccessSocketDeps): { nsp: ANamespace; dispose(): void } {
  const nsp: ANamespace = io.of('/access');

  nsp.use((socket, next) => {
    const share = (socket.handshake.auth as { share?: unknown } | undefined)?.share;
    if (share !== undefined) {
      deps.access.openShare(share).then(
        ({ link }) => {
          socket.data.link = link;
          next();
        },
        (err) => next(new Error(toErrorPayload(err).message)),
      );
      return;
    }
    const learnerId = verifyId(readCookie(socket.handshake.headers.cookie, COOKIE_NAME), deps.secret);
    if (!learnerId) return next(new Error('Open the lab page first: this connection has no learner cookie.'));
    socket.data.learnerId = learnerId;
    next();
  });

  const pushState = async (sid: string) => {
    if (!nsp.adapter.rooms.get(ownerRoom(sid))?.size) return;
    nsp.to(ownerRoom(sid)).emit('access:state', await stateView(sid));
  };
  const stateView = async (sid: string): Promise<AccessStateView> => {
    const port = deps.sshPort();
    return { ...(await deps.access.state(sid)), ssh: port ? { port } : null };
  };
  const stopListening = deps.access.onChange((sid) => void pushState(sid).catch((err) => deps.log('access: state push failed', err)));

  nsp.on('connection', (socket: ASocket) => (socket.data.link ? wireGuest(socket, socket.data.link) : wireOwner(socket)));

  function guard<T>(ack: Ack<T> | undefined, fn: () => T | Promise<T>): void {
    if (typeof ack !== 'function') return;
    Promise.resolve()
      .then(fn)
      .then(
        (value) => ack({ ok: true, value }),
        (err) => {
          if (!(err instanceof AppError)) deps.log('access request failed', err);
          ack({ ok: false, error: toErrorPayload(err) });
        },
      );
  }

  function wireOwner(socket: ASocket): void {
    const learnerId: string = socket.data.learnerId;
    const sid = (req: unknown): string => {
      const id = (req as { sessionId?: unknown } | undefined)?.sessionId;
      return deps.access.ownSession(learnerId, id).id;
    };
    socket.on('access:open', (req, ack) =>
      guard(ack, async () => {
        const id = sid(req);
        await socket.join(ownerRoom(id));
        return stateView(id);
      }),
    );
    socket.on('share:create', (req, ack) =>
      guard(ack, async () => {
        const { link, token } = await deps.access.createShare(learnerId, sid(req), req?.mode);
        return { link: { id: link.id, mode: link.mode, createdAt: link.createdAt }, path: `/share/${token}` };
      }),
    );
    socket.on('share:revoke', (req, ack) =>
      guard(ack, async () => {
        await deps.access.revokeShare(learnerId, sid(req), req?.id);
        // Guests of this link on other replicas (the adapter carries it) are cut off too.
        nsp.in(linkRoom(String(req.id))).disconnectSockets(true);
        return null;
      }),
    );
    socket.on('ssh:token', (req, ack) =>
      guard(ack, async () => {
        const port = deps.sshPort();
        if (!port) throw new AppError('not_found', 'ssh is off on this server (its host sets SSH_PORT to turn it on).');
        const id = sid(req);
        const { token, expiresAt } = await deps.access.newSshToken(learnerId, id);
        return { token, expiresAt, user: `node1.${id}`, port };
      }),
    );
    socket.on('ssh:key:add', (req, ack) =>
      guard(ack, async () => ({ fingerprint: (await deps.access.addSshKey(learnerId, sid(req), req?.key)).fingerprint })),
    );
    socket.on('ssh:key:remove', (req, ack) =>
      guard(ack, async () => {
        await deps.access.removeSshKey(learnerId, sid(req), req?.fingerprint);
        return null;
      }),
    );
    socket.on('visitor:disconnect', (req, ack) =>
      guard(ack, () => {
        deps.access.disconnect(learnerId, sid(req), req?.id);
        return null;
      }),
    );
  }

  function wireGuest(socket: ASocket, link: ShareLink): void {
    const viewerId = `guest-${crypto.randomBytes(6).toString('hex')}`;
    const sid = link.sessionId;
    void socket.join(linkRoom(link.id));
    let owner: string | undefined;
    /** node → the terminal this guest's viewer is on (a reset or a new node brings new ones). */
    const attached = new Map<number, SharedTerminal>();
    let lastReadOnlyNotice = 0;
    let left = false;
    /** node → chars sent to this guest and not yet acked by its page. */
    const unacked = new Map<number, number>();
    const kickSlow = () => deps.access.presence.kick((v) => v.id === viewerId, 'Your connection could not keep up with this terminal\'s output; reload the page to follow it again.');

    const attach = (info: SessionInfo) => {
      owner = info.ownerId;
      for (const [n, t] of attached) {
        if (deps.sessions.terminal(sid, n) !== t) {
          t.removeViewer(`${viewerId}:${n}`);
          attached.delete(n);
        }
      }
      for (const n of info.nodes) {
        const t = deps.sessions.terminal(sid, n);
        if (!t || attached.get(n) === t) continue;
        attached.set(n, t);
        t.addViewer({
          id: `${viewerId}:${n}`,
          data: (data) => {
            socket.emit('term:data', { term: n, data });
            // A guest never holds up the owner's terminal: its share of flow control is acked at once,
            // and a guest too slow to follow (acks far behind) is sent away instead.
            t.ack(`${viewerId}:${n}`, data.length);
            const behind = (unacked.get(n) ?? 0) + data.length;
            unacked.set(n, behind);
            if (behind > GUEST_MAX_BEHIND) kickSlow();
          },
          replay: (data) => socket.emit('term:replay', { term: n, data }),
          state: (state, message) => socket.emit('term:state', { term: n, state, message }),
        });
      }
      socket.emit('guest:nodes', { nodes: info.nodes });
    };
    const detach = () => {
      for (const [n, t] of attached) t.removeViewer(`${viewerId}:${n}`);
      attached.clear();
    };

    const leave = deps.access.enter({
      id: viewerId, sessionId: sid, kind: 'guest', label: `guest ${viewerId.slice(6, 10)}`, mode: link.mode, linkId: link.id, since: Date.now(),
      kick: (message) => {
        // Told first, then cut off: the page says why instead of trying to reconnect.
        socket.emit('guest:ended', { message });
        detach();
        socket.disconnect(true);
      },
    });
    const stopWatch = deps.sessions.watch(sid, (info) => info && !left && attach(info));

    socket.on('guest:join', (_req, ack) =>
      guard(ack, () => {
        const info = deps.sessions.info(sid);
        if (!info) throw new AppError('session_expired', 'The session you were in has ended.');
        // Answered first, so the page has its terminals when the replay arrives.
        setImmediate(() => !left && attach(info));
        return { title: info.title, mode: link.mode, nodes: info.nodes };
      }),
    );
    socket.on('guest:name', (req) => {
      const name = typeof req?.name === 'string' ? req.name.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 40) : '';
      if (name) deps.access.presence.rename(viewerId, name);
    });
    socket.on('term:input', (req) => {
      if (!req || typeof req.data !== 'string' || !Number.isInteger(req.term)) return;
      if (link.mode !== 'read-write') {
        const now = Date.now();
        if (now - lastReadOnlyNotice > READ_ONLY_NOTICE_MS) {
          lastReadOnlyNotice = now;
          socket.emit('notice', { level: 'info', message: 'This link is read-only: you can watch, not type.' });
        }
        return;
      }
      const t = attached.get(req.term);
      if (!t || !owner) return;
      if (req.data.length > TUNING.maxInputChunk) {
        socket.emit('notice', { level: 'warn', message: 'That input was too large to send at once and was dropped.' });
        return;
      }
      if (!deps.limits) return void t.input(req.data);
      // The owner's rate: a guest uses the owner's sandbox and counts against the owner's limits.
      void deps.limits.input(owner, Buffer.byteLength(req.data)).then((ok) => {
        if (ok) t.input(req.data);
        else socket.emit('notice', { level: 'warn', message: 'Input is arriving faster than this server accepts for this session (RATE_INPUT_BYTES_PER_SEC); some of it was dropped.' });
      });
    });
    socket.on('term:ack', (req) => {
      if (!req || typeof req.chars !== 'number') return;
      if (!Number.isFinite(req.chars) || req.chars <= 0) return;
      unacked.set(req.term, Math.max(0, (unacked.get(req.term) ?? 0) - req.chars));
    });
    socket.on('disconnect', () => {
      left = true;
      stopWatch();
      detach();
      leave();
    });
  }

  return {
    nsp,
    dispose: () => {
      stopListening();
    },
  };
}
