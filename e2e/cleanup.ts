// Removes everything a test's server created on the engine: its sandboxes, their disks and its
// session networks (all found by the owner label). Retries while a removal the server started
// is still in progress.
import { createDockerSandboxDriver } from '../sandbox/driver/index.ts';

export async function cleanupOwner(dataDir: string, ownerId: string): Promise<void> {
  const driver = createDockerSandboxDriver({ dataDir, ownerId, log: () => {} });
  try {
    for (let attempt = 0; ; attempt++) {
      await driver.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false });
      const left = await driver.list();
      if (!left.length) {
        // Once the containers are gone, one more pass releases disks whose removal raced them.
        await driver.reap({ now: Number.MAX_SAFE_INTEGER, isLive: () => false });
        return;
      }
      if (attempt >= 10) throw new Error(`sandboxes left after clean-up: ${left.map((r) => r.name).join(', ')}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await driver.dispose();
  }
}
