/**
 * Log-linear bucketing of non-negative doubles, in the style of HdrHistogram:
 * each power-of-two range [2^e, 2^(e+1)) is split into SUB_BUCKETS equal-width
 * sub-buckets. A value is represented by the midpoint of its sub-bucket, so the
 * relative error of any reported value is at most 1 / (2 * SUB_BUCKETS) (< 0.79%).
 *
 * All arithmetic here is exact in IEEE-754 doubles: v / 2^e and (m - 1) * 64 lose no
 * bits, so bucket boundaries never depend on rounding.
 * Zero has its own bucket (key ZERO_KEY, representative 0).
 */

export const SUB_BUCKET_BITS = 6;
export const SUB_BUCKETS = 1 << SUB_BUCKET_BITS; // 64 sub-buckets per octave
/** Worst-case relative error of a bucket's representative value against any value in it. */
export const BUCKET_RELATIVE_ERROR = 1 / (2 * SUB_BUCKETS);
/** Smaller than any real key: the smallest binary exponent of a double is -1074. */
export const ZERO_KEY = -1075 * SUB_BUCKETS;

function exponentOf(v: number): number {
  let e = Math.floor(Math.log2(v));
  while (e > -1074 && 2 ** e > v) e--;
  while (2 ** (e + 1) <= v) e++;
  return e;
}

/** Bucket key of a finite, non-negative value. Keys are ordered like the values. */
export function bucketKey(v: number): number {
  if (v === 0) return ZERO_KEY;
  const e = exponentOf(v);
  const m = v / 2 ** e; // in [1, 2)
  const sub = Math.floor((m - 1) * SUB_BUCKETS);
  return e * SUB_BUCKETS + sub;
}

/** The value that represents a bucket: the midpoint of its range. */
export function bucketValue(key: number): number {
  if (key === ZERO_KEY) return 0;
  const e = Math.floor(key / SUB_BUCKETS);
  const sub = key - e * SUB_BUCKETS;
  return 2 ** e * (1 + (sub + 0.5) / SUB_BUCKETS);
}
