// Turns pooled units into one session's sandboxes at take time: each gets the limits' CPU weight
// (pooled ones run at the lowest until then); node1 keeps its own pre-made
// private network, which becomes the session's; node2…N join it under their node names and leave
// their own, and take their node name as hostname; then the lab's files are copied in.
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import { AppError } from '../errors.ts';
import { copyLabFiles } from './lab-files.ts';
import type { PoolUnit } from './warm-pool.ts';

export async function adoptUnits(driver: SandboxDriver, units: PoolUnit[], assetsDir: string | undefined, cpuShares: number): Promise<SandboxRef[]> {
  const [first] = units;
  if (!first) return [];
  const refs = await Promise.all(
    units.map(async (u, i): Promise<SandboxRef> => {
      const node = i + 1;
      // Made in the background (the pool's lowest weight): a learner's sandbox competes at the limits' weight.
      await driver.setCpuShares?.(u.ref, cpuShares);
      if (node > 1) {
        if (!driver.joinNetwork || !driver.leaveNetwork) throw new AppError('sandbox_failed', 'this sandbox driver cannot re-network pooled sandboxes');
        const name = `node${node}`;
        await driver.joinNetwork(u.ref, first.network, name);
        await driver.leaveNetwork(u.ref, u.network);
        // bash's \h prompt reads the hostname at every prompt, so the shell shows it from its next line.
        const r = await driver.exec(u.ref, ['sh', '-c', 'hostname "$0" && echo "$0" > /etc/hostname', name], { timeoutMs: 10_000 });
        if (r.exitCode !== 0) throw new AppError('sandbox_failed', `could not name the pooled sandbox ${name}: ${r.stderr.trim()}`);
      }
      const ref = { ...u.ref, node };
      if (assetsDir) await copyLabFiles(driver, ref, assetsDir);
      return ref;
    }),
  );
  // Node 2…N's own networks are empty now.
  await Promise.all(units.slice(1).map((u) => driver.removeSessionNetwork(u.sid).catch(() => {})));
  return refs;
}
