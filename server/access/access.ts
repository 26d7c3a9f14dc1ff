// Share links and ssh, put together from the parts main.ts and server.ts chose: the access store,
// the sessions, the learner limits and (when SSH_PORT is set) the host key. Reads no env.
import express from 'express';
import type { Server as IoServer } from 'socket.io';
import { TUNING } from '../config.ts';
import { AppError } from '../errors.ts';
import type { LearnerLimits } from '../http/learner-limits.ts';
import { messagePage } from '../http/pages.ts';
import type { SessionManager } from '../sessions/manager.ts';
import type { SandboxDriver } from '../../sandbox/driver/types.ts';
import { every, type Timers } from '../timers.ts';
import { startSshServer, type SshServer } from '../ssh/ssh-server.ts';
import { AccessService } from './access-service.ts';
import { attachAccessNamespace } from './access-socket.ts';
import type { AccessStore } from './access-store.ts';
import { sessionPortOf } from './session-port.ts';
import { guestPage } from './share-page.ts';

export interface AccessDeps {
  store: AccessStore;
  sessions: SessionManager;
  /** Runs `ssh … <command>` in a node (the sandbox driver). */
  driver: Pick<SandboxDriver, 'exec'>;
  /** A session's title (its lab's). */
  titleOf(labId: string): string | undefined;
  /** Every replica's live session ids (the session store's): what ended elsewhere is forgotten. */
  liveSessionIds(): Promise<string[]>;
  secret: string;
  limits?: LearnerLimits;
  /** Present when SSH_PORT is set. */
  ssh?: { host: string; port: number; hostKey: string };
  timers: Timers;
  log(msg: string, err?: unknown): void;
}

export interface Access {
  /** GET /share/:token, the guest's page. */
  router: express.Router;
  /** The /access namespace on the server's socket.io. */
  attach(io: IoServer): void;
  /** The port the ssh server listens on, when it does. */
  sshPort(): number | undefined;
  dispose(): Promise<void>;
}

const SWEEP_MS = 60_000;

export async function createAccess(deps: AccessDeps): Promise<Access> {
  const port = sessionPortOf(deps.sessions, deps.driver, deps.titleOf);
  const service = new AccessService({ store: deps.store, sessions: port, now: () => deps.timers.now(), log: deps.log });
  const sweep = () => deps.liveSessionIds().then((ids) => service.sweep(ids)).catch((err) => deps.log('access: sweep failed (tried again in a minute)', err));
  await sweep();
  const stopSweep = every(deps.timers, SWEEP_MS, () => void sweep());

  let ssh: SshServer | undefined;
  if (deps.ssh) ssh = await startSshServer({ ...deps.ssh, access: service, sessions: port, limits: deps.limits, log: deps.log });

  const router = express.Router();
  router.get('/share/:token', async (req, res) => {
    try {
      const { link, session } = await service.openShare(req.params.token);
      res.setHeader('Cache-Control', 'no-store');
      res.type('html').send(guestPage({ token: String(req.params.token), title: session.title, mode: link.mode, nodes: session.nodes, maxPasteBytes: TUNING.maxPasteBytes }));
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      res.status(err.status).type('html').send(messagePage('This share link does not work', err.message, err.status));
    }
  });

  let nsp: ReturnType<typeof attachAccessNamespace> | undefined;
  return {
    router,
    attach(io) {
      nsp = attachAccessNamespace(io, { access: service, sessions: port, secret: deps.secret, limits: deps.limits, sshPort: () => ssh?.port, log: deps.log });
    },
    sshPort: () => ssh?.port,
    async dispose() {
      stopSweep();
      nsp?.dispose();
      service.dispose();
      await ssh?.dispose();
    },
  };
}
