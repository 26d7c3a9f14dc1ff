// A fake "private network" on this machine for the egress tests: a network namespace joined to the
// host by a veth pair, holding addresses the tests choose (a private one, a link-local one, two from
// the documentation ranges) and an HTTP listener on each. No traffic ever leaves this machine.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface NetnsFixture {
  name: string;
  addresses: string[];
  port: number;
  /** The marker the listener answers with. */
  marker: string;
  dispose(): void;
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

export async function createNetnsFixture(addresses: string[], port = 18099): Promise<NetnsFixture> {
  const id = randomBytes(3).toString('hex');
  const name = `lablab-test-${id}`;
  const host = `lbt${id}h`;
  const inside = `lbt${id}n`;
  const marker = `listener-${id}`;
  let listener: ChildProcess | undefined;
  const dispose = () => {
    if (listener?.pid) {
      try {
        process.kill(listener.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const a of addresses) spawnQuiet('ip', ['route', 'del', `${a}/32`, 'dev', host]);
    spawnQuiet('ip', ['link', 'del', host]);
    spawnQuiet('ip', ['netns', 'del', name]);
  };
  try {
    sh('ip', ['netns', 'add', name]);
    sh('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', inside]);
    sh('ip', ['link', 'set', inside, 'netns', name]);
    sh('ip', ['link', 'set', host, 'up']);
    sh('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
    sh('ip', ['netns', 'exec', name, 'ip', 'link', 'set', inside, 'up']);
    for (const a of addresses) {
      // The addresses exist only inside the namespace; the host just routes them into the veth.
      sh('ip', ['netns', 'exec', name, 'ip', 'addr', 'add', `${a}/32`, 'dev', inside]);
      sh('ip', ['route', 'add', `${a}/32`, 'dev', host]);
    }
    sh('ip', ['netns', 'exec', name, 'ip', 'route', 'add', 'default', 'dev', inside]);
    listener = spawn('ip', ['netns', 'exec', name, process.execPath, '-e',
      `require('http').createServer((q, r) => r.end(${JSON.stringify(marker + '\n')})).listen(${port}, '0.0.0.0', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      listener!.stdout!.once('data', () => resolve());
      listener!.once('exit', (c) => reject(new Error(`listener exited ${c}`)));
    });
  } catch (err) {
    dispose();
    throw err;
  }
  return { name, addresses, port, marker, dispose };
}

function spawnQuiet(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // teardown of something that may not exist
  }
}
