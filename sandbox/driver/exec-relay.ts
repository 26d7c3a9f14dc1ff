// Reaching a sandbox's inner engine through the outer engine's API alone: each HTTP connection to
// it is an exec of `docker system dial-stdio` inside the sandbox, which relays its stdio to the inner
// engine's unix socket (the learner's shell has that socket already, so this grants nothing new).
// Used where the sandbox's socket folder is not on this host (a remote engine).
import http from 'node:http';
import type { Duplex } from 'node:stream';

/** How long a kept-alive relay may sit idle before it is closed (each one is a process in the sandbox). */
const IDLE_RELAY_MS = 15_000;

/**
 * Gives a stream what node's HTTP client asks of a socket: an idle timeout (the engine client's
 * per-request timeout) and the TCP knobs, which mean nothing for an exec stream.
 */
export function asSocket(stream: Duplex): Duplex {
  let timer: NodeJS.Timeout | undefined;
  let idleMs = 0;
  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = idleMs > 0 ? setTimeout(() => stream.emit('timeout'), idleMs) : undefined;
  };
  const s = stream as Duplex & Record<string, unknown>;
  s.setTimeout = (ms: number, cb?: () => void) => {
    idleMs = ms;
    if (cb) stream.once('timeout', cb);
    arm();
    return stream;
  };
  s.setNoDelay = () => stream;
  s.setKeepAlive = () => stream;
  s.ref = () => stream;
  s.unref = () => stream;
  stream.on('data', arm);
  stream.on('close', () => timer && clearTimeout(timer));
  return stream;
}

export function createExecRelayAgent(dial: () => Promise<Duplex>): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4, maxFreeSockets: 1, timeout: IDLE_RELAY_MS });
  (agent as unknown as { createConnection: (o: unknown, cb: (err: Error | null, s?: Duplex) => void) => void }).createConnection = (_o, cb) => {
    dial().then(
      (s) => cb(null, asSocket(s)),
      (err: Error) => cb(err),
    );
  };
  return agent;
}
