// Removes everything a test's server created on the engine: its sandboxes, their disks and its
// session networks (all found by the owner label).
import { createDockerSandboxDriver } from '../sandbox/driver/index.ts';

export async function cleanupOwner(dataDir: string, ownerId: string): Promise<void> {
  const driver = createDockerSandboxDriver({ dataDir, ownerId, log: () => {} });
  try {
    await driver.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false });
    const left = await driver.list();
    if (left.length) throw new Error(`sandboxes left after clean-up: ${left.map((r) => r.name).join(', ')}`);
  } finally {
    await driver.dispose();
  }
}
