// REDIS_URL: several replicas behind a sticky proxy act as one socket.io server. Broadcasts (lab
// changes, the host's messages to an event) reach learners on every replica; a learner's own
// socket stays on the replica that holds their terminal, which sticky sessions guarantee.
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import type { Server } from 'socket.io';

export async function attachRedisAdapter(io: Server, url: string, log: (msg: string, err?: unknown) => void): Promise<{ dispose(): Promise<void> }> {
  const pub = createClient({ url });
  const sub = pub.duplicate();
  // node-redis reconnects by itself; an 'error' with no listener would end the process instead.
  for (const c of [pub, sub]) c.on('error', (err) => log('redis connection error (reconnecting)', err));
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
  return {
    async dispose() {
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}
