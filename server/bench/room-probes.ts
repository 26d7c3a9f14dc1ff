// What the classroom bench reads besides its learners: a Prometheus histogram's quantile from the
// server's /metrics text, and the CPU time all sandboxes together have used (the parent cgroup of
// every sandbox), so a learner's lab can be priced in core-seconds.
import fs from 'node:fs';

export interface Bucket {
  le: number;
  count: number;
}

/** A Prometheus histogram's cumulative buckets, in order; empty when the text does not have it. */
export function readBuckets(metricsText: string, name: string): Bucket[] {
  const buckets: Bucket[] = [];
  const re = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm');
  for (const m of metricsText.matchAll(re)) buckets.push({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), count: Number(m[2]) });
  return buckets.sort((a, b) => a.le - b.le);
}

/** What was observed between two reads of the same histogram. */
export function bucketsSince(before: Bucket[], after: Bucket[]): Bucket[] {
  return after.map((b) => ({ le: b.le, count: b.count - (before.find((x) => x.le === b.le)?.count ?? 0) }));
}

/**
 * The q-quantile (0..1), interpolated inside its bucket as Prometheus' histogram_quantile does;
 * undefined when nothing was observed.
 */
export function quantile(buckets: Bucket[], q: number): number | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  if (!total) return undefined;
  const rank = q * total;
  let prevLe = 0, prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe; // beyond the last finite bucket: its bound is all we know
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(1e-9, b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** How many observations are above `bound` (one of the bucket bounds), and how many in all. */
export function countAbove(buckets: Bucket[], bound: number): { above: number; total: number } {
  const total = buckets.at(-1)?.count ?? 0;
  return { above: total - (buckets.find((b) => b.le === bound)?.count ?? NaN), total };
}

/** CPU seconds used so far by every sandbox together (v1 cpuacct, v2 cpu.stat), or undefined where unreadable. */
export function sandboxesCpuSeconds(root = '/sys/fs/cgroup'): number | undefined {
  for (const p of [`${root}/cpuacct/lablab/cpuacct.usage`, `${root}/cpu,cpuacct/lablab/cpuacct.usage`]) {
    try {
      return Number(fs.readFileSync(p, 'utf8').trim()) / 1e9;
    } catch {
      // not this layout
    }
  }
  for (const p of [`${root}/lablab.slice/cpu.stat`, `${root}/lablab/cpu.stat`]) {
    try {
      return usageFromCpuStat(fs.readFileSync(p, 'utf8'));
    } catch {
      // not this layout
    }
  }
  return undefined;
}

export function usageFromCpuStat(text: string): number | undefined {
  const m = /^usage_usec (\d+)$/m.exec(text);
  return m ? Number(m[1]) / 1e6 : undefined;
}
