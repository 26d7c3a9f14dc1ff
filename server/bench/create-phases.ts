// The driver logs each create as `sandbox <id> (node<n>): template 24, disk 1100, network 1150,
// created 2000, started 2900 ms` (milliseconds since the create began, cumulative). This turns a
// server's log into each phase's own duration, so a bench shows where creates spend their time.
import { percentile } from '../../sandbox/bench/stats.ts';

const LINE = /sandbox [0-9a-f]+ \(node\d+\): ((?:[a-z]+ \d+(?:, )?)+) ms/g;

/** Each create's phases as durations (the time since the previous phase), in log order. */
export function createPhases(log: string): Record<string, number>[] {
  const out: Record<string, number>[] = [];
  for (const m of log.matchAll(LINE)) {
    const phases: Record<string, number> = {};
    let prev = 0;
    for (const part of m[1]!.split(', ')) {
      const [name, at] = part.split(' ');
      phases[name!] = Number(at) - prev;
      prev = Number(at);
    }
    phases.total = prev;
    out.push(phases);
  }
  return out;
}

/** Per phase, p50 and p95 over all creates: `{ disk: { p50: 900, p95: 1400 }, ... }`. */
export function summarisePhases(creates: Record<string, number>[]): Record<string, { p50: number; p95: number }> {
  const names = [...new Set(creates.flatMap((c) => Object.keys(c)))];
  return Object.fromEntries(names.map((n) => {
    const xs = creates.flatMap((c) => (n in c ? [c[n]!] : []));
    return [n, { p50: Math.round(percentile(xs, 50)), p95: Math.round(percentile(xs, 95)) }];
  }));
}
