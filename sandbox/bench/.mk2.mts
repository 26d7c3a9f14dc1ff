export {};
import { createDockerSandboxDriver } from '/work/main/sandbox/driver/docker-driver.ts';
import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-mk-'));
const driver = createDockerSandboxDriver({ dataDir, ownerId: 'mk2-test', log: (m) => console.log(m) });
const sessions: string[] = [];
async function one(i: number) {
  const sessionId = `mk-${i}-${Date.now()}`; sessions.push(sessionId);
  const network = await driver.createSessionNetwork(sessionId);
  const t0 = Date.now();
  const ref = await driver.create({ sessionId, node: 1, images: ['busybox'], network, limits: { memoryMiB: 768, pids: 512, cpuShares: 512, diskGiB: 2 }, expiresAt: Date.now() + 600_000 });
  try { await driver.waitReady(ref, { images: ['busybox'], timeoutMs: 180_000 }); console.log(`ready ${i} in ${Date.now() - t0} ms`); }
  catch (e) { console.log('FAIL', i, (e as Error).message); }
  const r = await driver.exec(ref, ['cat', '/proc/self/uid_map']); console.log('exec', r.exitCode, r.stdout.trim(), r.stderr.trim());
  return ref;
}
const refs = await Promise.all([one(1), one(2)]);
if (process.env.KEEP !== '1') { await driver.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false }); for (const s of sessions) await driver.removeSessionNetwork(s).catch(() => {}); await driver.dispose(); fs.rmSync(dataDir, { recursive: true, force: true }); }
else console.log(refs.map((r) => r.containerId).join(' '));
