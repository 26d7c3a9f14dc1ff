// `ssh -p <SSH_PORT> node<N>.<session>@<host>`: a node's shell through the server (ssh2's server side).
// Logins are per session: a one-time token made on the owner's page (password or keyboard-interactive)
// or a public key the owner pasted for that session. No key or password is shared between sessions.
// Once in, the login is one more viewer of the node's terminal, like a browser tab: the same shell in
// the sandbox, the same input rate (counted against the session's owner), the same size clamps.
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import ssh2, { type AuthContext, type Connection, type ServerChannel } from 'ssh2';
import { TUNING } from '../config.ts';
import type { LearnerLimits } from '../http/learner-limits.ts';
import { clampSize } from '../realtime/validate.ts';
import type { AccessService } from '../access/access-service.ts';
import type { SessionPort, SharedTerminal } from '../access/session-port.ts';
import { parsedKey } from './ssh-keys.ts';
import { parseSshUser, type SshTarget } from './ssh-target.ts';

// ssh2 is CommonJS: its named exports are properties of the default one.
const { Server } = ssh2;

export const SSH_LIMITS = {
  /** Failed login attempts per client address per minute (a token has 256 bits: this only stops noise). */
  failuresPerMinute: 20,
  /** Connections open at once from one address. */
  connectionsPerAddress: 20,
  /** A connection that has not logged in by then is closed. */
  loginTimeoutMs: 30_000,
  /** Session channels per connection (each is a shell on the node). */
  channelsPerConnection: 4,
  /** Output an ssh client has not taken yet (bytes buffered for its channel) before it is cut off. */
  maxBufferedChars: 2 * TUNING.flowHighWatermark,
  /** Longest command line for `ssh … <command>`. */
  maxCommandChars: 16 * 1024,
  /** Matches the exec bound in access/session-port.ts. */
  commandTimeoutS: 120,
  /** What a login sees of the scrollback: the end of it, from a line start. */
  replayChars: 4_000,
} as const;

export interface SshServerDeps {
  hostKey: string;
  access: AccessService;
  sessions: SessionPort;
  limits?: LearnerLimits;
  host: string;
  port: number;
  log(msg: string, err?: unknown): void;
}

export interface SshServer {
  port: number;
  dispose(): Promise<void>;
}

const METHODS: AuthContext['method'][] = ['publickey', 'keyboard-interactive', 'password'];
const TOO_FAST_NOTE = '\r\n\x1b[33m[input arrives faster than this server accepts (RATE_INPUT_BYTES_PER_SEC); some was dropped]\x1b[0m\r\n';

export async function startSshServer(deps: SshServerDeps): Promise<SshServer> {
  const failures = new RateLimiterMemory({ points: SSH_LIMITS.failuresPerMinute, duration: 60 });
  const perAddress = new Map<string, number>();
  const open = new Set<Connection>();

  const server = new Server({ hostKeys: [deps.hostKey], ident: 'lablab' }, (client, info) => {
    const address = info.ip;
    const count = (perAddress.get(address) ?? 0) + 1;
    perAddress.set(address, count);
    open.add(client);
    const release = () => {
      open.delete(client);
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n <= 0) perAddress.delete(address);
      else perAddress.set(address, n);
    };
    let loginTimer: NodeJS.Timeout | undefined;
    client.on('close', () => {
      clearTimeout(loginTimer);
      release();
    });
    // A bad handshake or a dropped connection: that client's problem, never the server's.
    client.on('error', (err) => deps.log(`ssh: connection from ${address}: ${err.message}`));
    if (count > SSH_LIMITS.connectionsPerAddress) {
      deps.log(`ssh: refused a connection from ${address} (${SSH_LIMITS.connectionsPerAddress} already open)`);
      client.end();
      return;
    }
    loginTimer = setTimeout(() => client.end(), SSH_LIMITS.loginTimeoutMs);
    let target: SshTarget | undefined;
    let how = '';

    client.on('authentication', (ctx) => {
      const t = parseSshUser(ctx.username);
      const refuse = () => {
        // Counted per address; past the rate the connection is closed, not just the attempt.
        failures.consume(address).then(() => ctx.reject(METHODS), () => (ctx.reject(METHODS), client.end()));
      };
      if (!t || !deps.sessions.info(t.sessionId)) {
        if (ctx.method === 'none') return ctx.reject(METHODS);
        return refuse();
      }
      const accept = (method: string) => {
        target = t;
        how = method;
        ctx.accept();
      };
      const withToken = (token: string | undefined) =>
        deps.access.takeSshToken(t.sessionId, (token ?? '').trim()).then(
          (ok) => (ok ? accept('a one-time token') : refuse()),
          (err) => (deps.log('ssh: token check failed', err), ctx.reject(METHODS)),
        );
      switch (ctx.method) {
        case 'password':
          return void withToken(ctx.password);
        case 'keyboard-interactive':
          return ctx.prompt(
            [{ prompt: 'One-time token: ', echo: false }],
            'Docker Labs',
            `Paste the one-time token from your lab page for ${ctx.username} (each token opens one login).`,
            (answers) => void withToken(answers[0]),
          );
        case 'publickey':
          return void deps.access.sshKeys(t.sessionId).then((keys) => {
            const key = keys.map((k) => parsedKey(k.publicKey)).find((k) => k && k.getPublicSSH().equals(ctx.key.data));
            if (!key) return refuse();
            // Without a signature the client only asks whether this key would do.
            if (ctx.signature && key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) return refuse();
            if (!ctx.signature) return ctx.accept();
            accept(`key ${keys.find((k) => parsedKey(k.publicKey)?.getPublicSSH().equals(ctx.key.data))?.comment || 'of the session'}`);
          }, (err) => (deps.log('ssh: key lookup failed', err), ctx.reject(METHODS)));
        default:
          return ctx.reject(METHODS);
      }
    });

    client.on('ready', () => {
      clearTimeout(loginTimer);
      const { sessionId, node } = target!;
      deps.log(`ssh: ${address} logged in to node${node} of session ${sessionId} with ${how}`);
      let channels = 0;
      client.on('session', (acceptSession, rejectSession) => {
        if (++channels > SSH_LIMITS.channelsPerConnection) return rejectSession();
        const session = acceptSession();
        let size = { cols: 80, rows: 24 };
        let shell: { resize(): void } | undefined;
        session.on('pty', (ok, _no, p) => {
          size = clampSize(p.cols, p.rows) ?? size;
          ok?.();
        });
        session.on('window-change', (ok, _no, p) => {
          size = clampSize(p.cols, p.rows) ?? size;
          shell?.resize();
          ok?.();
        });
        session.on('env', (ok) => ok?.());
        session.on('exec', (ok, _no, req) => {
          const stream = ok();
          void runCommand({ deps, stream, sessionId, node, command: req.command });
        });
        session.on('shell', (ok, no) => {
          const t = deps.sessions.terminal(sessionId, node);
          const info = deps.sessions.info(sessionId);
          if (!t || !info) return no();
          const stream = ok();
          shell = attachShell({ deps, stream, terminal: t, owner: info.ownerId, size: () => size, onEnd: () => client.end() });
          const leave = deps.access.enter({
            id: `ssh-${crypto.randomBytes(6).toString('hex')}`, sessionId, kind: 'ssh', label: `ssh from ${address} (${how})`,
            mode: 'read-write', node, since: Date.now(),
            kick: (message) => {
              stream.write(`\r\n\x1b[33m[${message}]\x1b[0m\r\n`);
              stream.exit(0);
              stream.end();
              client.end();
            },
          });
          stream.on('close', leave);
        });
      });
    });
  });
  server.on('error', (err: Error) => deps.log('ssh server error', err));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, deps.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    dispose: () =>
      new Promise<void>((resolve) => {
        for (const c of open) c.end();
        server.close(() => resolve());
      }),
  };
}

/** One ssh shell channel as a viewer of the node's terminal, with flow control and the input rate. */
function attachShell(a: {
  deps: SshServerDeps;
  stream: ServerChannel;
  terminal: SharedTerminal;
  owner: string;
  size(): { cols: number; rows: number };
  onEnd(): void;
}): { resize(): void } {
  const { deps, stream, terminal: t } = a;
  const id = `ssh-${crypto.randomBytes(6).toString('hex')}`;
  // An ssh client never holds up the terminal it shares with the owner's page: its share of flow
  // control is acked at once, and a client too slow to take the output (its channel's buffer past
  // the bound) is disconnected instead.
  let dropped = false;
  const write = (data: string) => {
    if (dropped) return;
    stream.write(data);
    if (stream.writableLength > SSH_LIMITS.maxBufferedChars) {
      dropped = true;
      a.deps.log('ssh: a login too slow to take its terminal\'s output was closed');
      stream.exit(1);
      stream.end();
      a.onEnd();
    }
  };
  t.addViewer({
    id,
    data: (d) => {
      write(d);
      t.ack(id, d.length);
    },
    replay: (d) => write(replayTail(d)),
    state: (state, message) => {
      if (state !== 'failed') return;
      stream.stderr.write(`\r\n${message ?? 'The terminal stopped.'}\r\n`);
      stream.exit(1);
      stream.end();
    },
  });
  const s = a.size();
  t.resize(s.cols, s.rows);

  const decoder = new StringDecoder('utf8');
  let order = Promise.resolve();
  let lastNote = 0;
  stream.on('data', (buf: Buffer) => {
    const text = decoder.write(buf);
    for (let i = 0; i < text.length; i += TUNING.maxInputChunk) {
      const piece = text.slice(i, i + TUNING.maxInputChunk);
      if (!deps.limits) {
        t.input(piece);
        continue;
      }
      // Chained: pieces reach the shell in the order they came, each counted against the owner's rate.
      order = order.then(() => deps.limits!.input(a.owner, Buffer.byteLength(piece))).then((ok) => {
        if (ok) return t.input(piece);
        const now = Date.now();
        if (now - lastNote > 5_000) {
          lastNote = now;
          stream.stderr.write(TOO_FAST_NOTE);
        }
      }, (err) => deps.log('ssh: input rate check failed', err));
    }
  });
  stream.on('close', () => t.removeViewer(id));
  return { resize: () => { const z = a.size(); t.resize(z.cols, z.rows); } };
}

/**
 * `ssh … <command>`: one command line run in the node as its shell would run it, its output and exit
 * status sent back. Counted against the owner's input rate like typed input (at least 1 KiB a command).
 */
async function runCommand(a: { deps: SshServerDeps; stream: ServerChannel; sessionId: string; node: number; command: string }): Promise<void> {
  const { deps, stream } = a;
  const finish = (code: number, err?: string) => {
    if (err) stream.stderr.write(`${err}\n`);
    stream.exit(code);
    stream.end();
  };
  const info = deps.sessions.info(a.sessionId);
  if (!info) return finish(1, 'The session has ended.');
  if (typeof a.command !== 'string' || a.command.length > SSH_LIMITS.maxCommandChars) return finish(2, `A command may be at most ${SSH_LIMITS.maxCommandChars} characters; open a shell (ssh without a command) for more.`);
  if (deps.limits && !(await deps.limits.input(info.ownerId, Math.max(1024, Buffer.byteLength(a.command))))) {
    return finish(1, 'Commands are arriving faster than this server accepts for this session (RATE_INPUT_BYTES_PER_SEC); wait a moment.');
  }
  try {
    const r = await deps.sessions.exec(a.sessionId, a.node, a.command);
    if (r.stdout) stream.write(r.stdout);
    if (r.stderr) stream.stderr.write(r.stderr);
    finish(r.timedOut ? 124 : r.exitCode, r.timedOut ? `The command was stopped after ${SSH_LIMITS.commandTimeoutS} s; run long commands in the shell.` : undefined);
  } catch (err) {
    deps.log(`ssh: command in node${a.node} of ${a.sessionId} failed`, err);
    finish(1, 'The command could not run: the node is not running.');
  }
}

/** The end of the scrollback from a line start: enough to see the prompt without replaying a flood. */
export function replayTail(scrollback: string, max: number = SSH_LIMITS.replayChars): string {
  if (scrollback.length <= max) return scrollback;
  const cut = scrollback.indexOf('\n', scrollback.length - max);
  return cut === -1 ? '' : scrollback.slice(cut + 1);
}
