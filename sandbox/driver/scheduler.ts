// Where a new session goes: pure, so every rule is unit-tested without an engine.
// The figures come from the engine itself (docker info: MemTotal, NCPU; our labelled sandboxes).

export interface EngineLoad {
  id: string;
  /** The last probe answered. */
  healthy: boolean;
  /** Drained by the host: keeps its sessions, takes no new ones. */
  draining: boolean;
  memTotalBytes: number;
  cpus: number;
  /** Our sandboxes running there now (plus ones being created). */
  running: number;
  /** A cap set for this engine, if any. */
  maxSandboxes?: number;
}

export const SCHEDULER_TUNING = {
  /** Memory kept for the engine host itself, not handed to sandboxes. */
  reservedHostBytes: 1024 ** 3,
  /** Sandboxes per CPU before the engine counts as full (learners are mostly idle at a prompt). */
  sandboxesPerCpu: 16,
};

/** How many more sandboxes of `memoryMiB` this engine can take. */
export function freeSlots(e: EngineLoad, memoryMiB: number): number {
  const byMemory = Math.floor(Math.max(0, e.memTotalBytes - SCHEDULER_TUNING.reservedHostBytes) / (memoryMiB * 1024 ** 2));
  const byCpu = e.cpus * SCHEDULER_TUNING.sandboxesPerCpu;
  const cap = Math.min(byMemory, byCpu, e.maxSandboxes ?? Infinity);
  return Math.max(0, cap - e.running);
}

export type Placement = { ok: true; engine: string } | { ok: false; reason: string };

/**
 * The engine for a new session of `nodes` sandboxes (all on one engine, so they share its network):
 * healthy, not drained, room for every node; the most free slots wins, ties go to the first listed.
 */
export function placeSession(engines: EngineLoad[], nodes: number, memoryMiB: number): Placement {
  let best: { id: string; free: number } | undefined;
  for (const e of engines) {
    if (!e.healthy || e.draining) continue;
    const free = freeSlots(e, memoryMiB);
    if (free < nodes) continue;
    if (!best || free > best.free) best = { id: e.id, free };
  }
  if (best) return { ok: true, engine: best.id };
  const up = engines.filter((e) => e.healthy);
  const open = up.filter((e) => !e.draining);
  const reason = !up.length
    ? 'no sandbox engine answers'
    : !open.length
      ? 'every sandbox engine is drained'
      : `no sandbox engine has room for ${nodes} more sandbox${nodes === 1 ? '' : 'es'}`;
  return { ok: false, reason };
}
