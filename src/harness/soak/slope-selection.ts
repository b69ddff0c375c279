/**
 * Order statistics of the pairwise slopes (y_j - y_i) / (x_j - x_i), i < j, x_i != x_j.
 *
 * Two interchangeable selectors, both answering "the k-th smallest slope" (1-based):
 * - pairs: materialises and sorts all N slopes. Exact; O(n^2) time and memory.
 * - bisection: O(n) memory. For a candidate slope b, the number of pairwise slopes
 *   <= b equals the number of pairs i < j (in x order) with r_j <= r_i where
 *   r = y - b*x, counted by a merge sort in O(n log n). Bisection on b then finds the
 *   smallest b whose count reaches k, to ~1e-13 relative precision (<= ~120 rounds).
 *   So a 4 h run with 1 s samples (n = 14,400) needs a few hundred 14,400-element
 *   merge sorts and ~350 KB, instead of ~10^8 slopes.
 */

export interface SlopeSelector {
  /** Number of pairs with distinct x. */
  readonly pairs: number;
  /** The k-th smallest pairwise slope, 1 <= k <= pairs. */
  select(k: number): number;
}

/** xs ascending; within equal x, ys descending (the bisection counter relies on it). */
export interface SortedPoints {
  xs: Float64Array;
  ys: Float64Array;
}

export function sortPoints(points: readonly { x: number; y: number }[]): SortedPoints {
  const order = points.map((p) => p).sort((a, b) => a.x - b.x || b.y - a.y);
  return { xs: Float64Array.from(order, (p) => p.x), ys: Float64Array.from(order, (p) => p.y) };
}

export function pairsSelector({ xs, ys }: SortedPoints): SlopeSelector {
  const n = xs.length;
  const slopes = new Float64Array((n * (n - 1)) / 2);
  let count = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = xs[j]! - xs[i]!;
      if (dx !== 0) slopes[count++] = (ys[j]! - ys[i]!) / dx;
    }
  }
  const sorted = slopes.subarray(0, count).sort();
  return {
    pairs: sorted.length,
    select: (k) => sorted[checkRank(k, sorted.length) - 1]!,
  };
}

export function bisectionSelector({ xs, ys }: SortedPoints): SlopeSelector {
  const n = xs.length;
  let sameXPairs = 0;
  let minGap = Number.POSITIVE_INFINITY;
  let run = 1;
  for (let i = 1; i <= n; i++) {
    if (i < n && xs[i] === xs[i - 1]) {
      run++;
      continue;
    }
    sameXPairs += (run * (run - 1)) / 2;
    run = 1;
    if (i < n) minGap = Math.min(minGap, xs[i]! - xs[i - 1]!);
  }
  const pairs = (n * (n - 1)) / 2 - sameXPairs;
  let yMin = Number.POSITIVE_INFINITY;
  let yMax = Number.NEGATIVE_INFINITY;
  for (const y of ys) {
    yMin = Math.min(yMin, y);
    yMax = Math.max(yMax, y);
  }
  /** No pairwise slope exceeds this in absolute value. */
  const bound = (yMax - yMin) / minGap;
  const r = new Float64Array(n);
  const tmp = new Float64Array(n);

  // Pairs with equal x are sorted so that r_j <= r_i for every b: always counted, then removed.
  const countAtMost = (b: number): number => {
    for (let i = 0; i < n; i++) r[i] = ys[i]! - b * xs[i]!;
    return countNonIncreasingPairs(r, tmp) - sameXPairs;
  };

  const select = (k: number): number => {
    checkRank(k, pairs);
    if (bound === 0) return 0;
    let lo = -bound * 1.01 - Number.MIN_VALUE;
    let hi = bound * 1.01 + Number.MIN_VALUE;
    for (let guard = 0; countAtMost(hi) < k && guard < 64; guard++) hi = hi * 2;
    for (let guard = 0; countAtMost(lo) >= k && guard < 64; guard++) lo = lo * 2;
    const absTol = bound * 1e-17;
    for (let round = 0; round < 160; round++) {
      if (hi - lo <= Math.max(1e-13 * Math.max(Math.abs(lo), Math.abs(hi)), absTol)) break;
      const mid = lo + (hi - lo) / 2;
      if (mid <= lo || mid >= hi) break;
      if (countAtMost(mid) >= k) hi = mid;
      else lo = mid;
    }
    return hi;
  };
  return { pairs, select };
}

function checkRank(k: number, pairs: number): number {
  if (!Number.isInteger(k) || k < 1 || k > pairs) throw new RangeError(`slope rank ${k} outside 1..${pairs}`);
  return k;
}

/**
 * Number of index pairs i < j with a[j] <= a[i] (bottom-up merge sort; sorts `a`,
 * uses `tmp` as scratch of the same length).
 */
export function countNonIncreasingPairs(a: Float64Array, tmp: Float64Array): number {
  const n = a.length;
  let count = 0;
  let src = a;
  let dst = tmp;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (src[j]! <= src[i]!) {
          dst[k++] = src[j++]!;
          count += mid - i;
        } else {
          dst[k++] = src[i++]!;
        }
      }
      while (i < mid) dst[k++] = src[i++]!;
      while (j < hi) dst[k++] = src[j++]!;
    }
    const swap = src;
    src = dst;
    dst = swap;
  }
  return count;
}
