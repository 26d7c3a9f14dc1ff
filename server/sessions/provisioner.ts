// Gets a session its sandboxes: pooled ones when the warm pool has a unit of the lab's shape
// (given their network, names and files now), else created cold on a session network (a pre-made
// one when the pool has it). Refs are reported as soon as they exist, so a session that ends
// meanwhile, or a restart, can clean up what was made.
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import type { Config } from '../config.ts';
import type { Lab } from '../labs/types.ts';
import type { WarmPool } from '../pool/warm-pool.ts';
import { adoptUnits } from '../pool/take.ts';

export interface ProvisionJob {
  sessionId: string;
  createdAt: number;
  lab: Lab;
  /** Receives the synthetic session ids the sandboxes or their network carry (a pool unit's, a pre-made network's). */
  aliases: Set<string>;
  /** The sandboxes known so far; awaited, so they are stored before the next step. */
  onRefs(refs: SandboxRef[]): Promise<void>;
  /** What the learner waits for (an image being fetched, a template built). */
  onProgress(message: string): void;
}

export interface Provisioner {
  provision(job: ProvisionJob): Promise<void>;
}

export function createProvisioner(deps: {
  driver: SandboxDriver;
  config: Pick<Config, 'limits' | 'sessionMaxMs'>;
  pool?: WarmPool;
  /** The injected clock, for how long a sandbox took. */
  now(): number;
  sandboxReady?(ms: number, source: 'pool' | 'cold'): void;
}): Provisioner {
  const { driver, config } = deps;
  return {
    async provision({ sessionId, createdAt, lab, aliases, onRefs, onProgress }) {
      if (lab.terms === 0) return;
      // `scratch` is Docker's empty base: nothing to preload.
      const images = lab.images.filter((i) => i !== 'scratch');
      const t0 = deps.now();
      const units = deps.pool?.take({ images, terms: lab.terms });
      if (units) {
        for (const u of units) aliases.add(u.sid);
        await onRefs(units.map((u, i) => ({ ...u.ref, node: i + 1 })));
        // Pooled sandboxes get their network, node names and the lab's files now, as a create would.
        await onRefs(await adoptUnits(driver, units, lab.assetsDir, config.limits.cpuShares));
        deps.sandboxReady?.(deps.now() - t0, 'pool');
        return;
      }
      const premade = deps.pool?.takeNetwork();
      if (premade) aliases.add(premade.sid);
      const network = premade?.name ?? (await driver.createSessionNetwork(sessionId));
      const expiresAt = createdAt + config.sessionMaxMs;
      const created = await Promise.allSettled(
        Array.from({ length: lab.terms }, (_, i) =>
          // On a pre-made network the sandboxes carry its synthetic id, so a restart finds the alias in their refs.
          driver.create({
            sessionId: premade?.sid ?? sessionId, node: i + 1, images, assetsDir: lab.assetsDir, network, limits: config.limits, expiresAt,
            // Fetching a lab image or building its template can take a while: say so on the starting page.
            onProgress: i === 0 ? onProgress : undefined,
          }),
        ),
      );
      const refs = created.flatMap((c) => (c.status === 'fulfilled' ? [c.value] : []));
      await onRefs(refs);
      const failed = created.find((c): c is PromiseRejectedResult => c.status === 'rejected');
      if (failed) throw failed.reason;
      await Promise.all(refs.map((r) => driver.waitReady(r, { images, timeoutMs: 120_000 })));
      deps.sandboxReady?.(deps.now() - t0, 'cold');
    },
  };
}
