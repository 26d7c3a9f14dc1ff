// Percentiles for every benchmark (sandbox, terminal, workshop, classroom), so their p50 and p95 mean
// the same thing: nearest rank over the sorted samples, no interpolation (a p99 is a sample that was
// really seen).

/** The nearest-rank `p`th percentile (0 < p ≤ 100) of `xs`; NaN when there are no samples. */
export function percentile(xs: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} is not in (0, 100]`);
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** Rounded to `digits` decimals (0: whole numbers), NaN and infinities as null so JSON keeps the key. */
export function fixed(x: number, digits = 0): number | null {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
