// A small sticky proxy for the replica tests, like the one a site puts in front of replicas: the
// first response sets a cookie naming the replica; later requests and websocket upgrades go to
// it. When that replica does not answer, the next live one is picked and the cookie rewritten.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

const COOKIE = 'lablab-replica';

export interface StickyProxy {
  url: string;
  close(): Promise<void>;
}

export async function startStickyProxy(targets: string[]): Promise<StickyProxy> {
  const hosts = targets.map((t) => new URL(t));
  let next = 0;
  const pinned = (cookie: string | undefined): number | undefined => {
    const m = new RegExp(`(?:^|;\\s*)${COOKIE}=(\\d+)`).exec(cookie ?? '');
    const i = m ? Number(m[1]) : NaN;
    return i >= 0 && i < hosts.length ? i : undefined;
  };
  const order = (first: number | undefined): number[] => {
    const start = first ?? next++ % hosts.length;
    return hosts.map((_, k) => (start + k) % hosts.length);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const wanted = pinned(req.headers.cookie);
      const tryAt = (candidates: number[]): void => {
        const i = candidates[0];
        if (i === undefined) return void res.writeHead(502).end('no replica answers');
        const up = http.request({ host: hosts[i]!.hostname, port: hosts[i]!.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
          const headers = { ...r.headers };
          if (wanted !== i) headers['set-cookie'] = [...(r.headers['set-cookie'] ?? []), `${COOKIE}=${i}; Path=/; HttpOnly`];
          res.writeHead(r.statusCode ?? 502, headers);
          r.pipe(res);
        });
        // Only a refused connection moves on: the replica is down, the request never reached it.
        up.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? tryAt(candidates.slice(1)) : res.destroy()));
        up.end(body);
      };
      tryAt(order(wanted));
    });
  });

  const tunnels = new Set<net.Socket>();
  server.on('upgrade', (req, socket, head) => {
    tunnels.add(socket as net.Socket);
    socket.on('close', () => tunnels.delete(socket as net.Socket));
    const tryAt = (candidates: number[]): void => {
      const i = candidates[0];
      if (i === undefined) return void socket.destroy();
      const up = net.connect(Number(hosts[i]!.port), hosts[i]!.hostname, () => {
        const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
        for (let k = 0; k < req.rawHeaders.length; k += 2) lines.push(`${req.rawHeaders[k]}: ${req.rawHeaders[k + 1]}`);
        up.write(lines.join('\r\n') + '\r\n\r\n');
        if (head.length) up.write(head);
        up.pipe(socket);
        socket.pipe(up);
      });
      up.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? tryAt(candidates.slice(1)) : socket.destroy()));
      socket.on('error', () => up.destroy());
      up.on('close', () => socket.destroy());
      socket.on('close', () => up.destroy());
    };
    tryAt(order(pinned(req.headers.cookie)));
  });

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        for (const t of tunnels) t.destroy();
        server.close(() => r());
      }),
  };
}
