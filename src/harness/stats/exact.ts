/**
 * Exact nearest-rank percentiles.
 *
 * Definition (the one this project states in every report): the p-th percentile of n
 * sorted samples is the sample at 1-based rank ceil(p/100 * n), with rank clamped to 1..n.
 * It always returns a value that was actually observed (no interpolation).
 */

/** Throws a RangeError unless p is a number in 0..100. */
export function assertPercentile(p: number): void {
  if (!(p >= 0 && p <= 100)) {
    throw new RangeError(`percentile must be in 0..100, got ${String(p)}`);
  }
}

/** The 1-based nearest rank of percentile p among n samples (n >= 1). */
export function nearestRank(p: number, n: number): number {
  assertPercentile(p);
  const x = (p * n) / 100;
  // p like 99.9 is not exact in binary: snap values within 1e-9 of an integer to it.
  const snapped = Math.abs(x - Math.round(x)) <= 1e-9 * Math.max(1, x) ? Math.round(x) : x;
  const rank = Math.ceil(snapped);
  return Math.min(n, Math.max(1, rank));
}

/** Nearest-rank percentile of an ascending array; null when it is empty. */
export function exactPercentile(sortedValues: readonly number[], p: number): number | null {
  assertPercentile(p);
  if (sortedValues.length === 0) return null;
  return sortedValues[nearestRank(p, sortedValues.length) - 1] ?? null;
}
