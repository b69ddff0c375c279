/**
 * Warm-up detection: where the start-up transient of a memory or latency series ends.
 *
 * Method: MSER-5 (White 1997; Franklin & White 2008). Samples after the minimum
 * warm-up are grouped into batches of `batchSize` (5) means Z_1..Z_m. For each
 * truncation d (batches dropped) the marginal standard error statistic is
 *   MSER(d) = SSE(d) / (m - d)^2
 * and the warm-up ends at the earliest d whose MSER(d) is within a relative
 * `tolerance` of the minimum. Plain argmin wanders on pure noise (the minimum of
 * a noisy curve lands anywhere; on flat series 1% of runs cut > 30% of the data);
 * the default tolerance sqrt(2 / m), about one standard error of an SSE with m
 * degrees of freedom, keeps flat and leaking series at the minimum warm-up while a
 * real transient, whose MSER falls steeply, still ends near its knee.
 *
 * Trend adjustment (default, method "mser-trend"): the classic statistic uses
 * SSE(d) = sum (Z_j - mean)^2, i.e. it assumes the steady state is flat. A steady
 * leak is not flat: its variance about the mean shrinks as more of it is cut, so
 * classic MSER swallows a leak up to the cap and the projection then covers half
 * the run. Here SSE(d) is the residual sum of squares of a least-squares line fit
 * to Z_{d+1..m} instead, so a straight line (flat or leaking) is "steady state"
 * and only curvature or steps at the start count as warm-up. `trend: false` gives
 * classic MSER-5 (method "mser").
 *
 * Bounds: the warm-up is at least `minWarmupX` (x units from the first point) and
 * never more than `maxFraction` (0.5) of the samples. When MSER is still falling at
 * that cap (its minimum sits on the cap) the warm-up ends at the cap and `capped`
 * is set: the series had probably not settled. Cost: O(n) time
 * and O(n / batchSize) memory (suffix fits updated with Welford-style sums).
 */

export interface WarmupOptions {
  /** Samples per batch mean. Default 5. */
  batchSize?: number;
  /** Largest fraction of the samples that may be discarded, in (0, 1]. Default 0.5. */
  maxFraction?: number;
  /** Minimum warm-up, in x units from the first sample (e.g. one window). Default 0. */
  minWarmupX?: number;
  /** Fit a line to the remainder instead of a level (see above). Default true. */
  trend?: boolean;
  /** Relative slack above the minimal MSER (see above). Default sqrt(2 / batches). */
  tolerance?: number;
}

export interface WarmupResult {
  /** Index of the first post-warm-up sample (series.length if nothing remains). */
  endIndex: number;
  /** x of that sample (the last sample's x if nothing remains). */
  endX: number;
  method: "mser-trend" | "mser" | "minimum";
  batchSize: number;
  /** True when the optimum sat at the maxFraction cap. */
  capped: boolean;
  reason: string;
}

/** Fewest batches a truncated remainder may keep. */
const MIN_BATCHES_LEFT = 4;

export function detectWarmup(series: readonly { x: number; y: number }[], options: WarmupOptions = {}): WarmupResult {
  const b = options.batchSize ?? 5;
  const maxFraction = options.maxFraction ?? 0.5;
  const minWarmupX = options.minWarmupX ?? 0;
  const trend = options.trend ?? true;
  const n = series.length;
  if (n === 0) throw new RangeError("detectWarmup needs at least one sample");
  if (!Number.isInteger(b) || b < 1) throw new RangeError(`batchSize must be a positive integer, got ${b}`);
  if (!(maxFraction > 0 && maxFraction <= 1)) throw new RangeError(`maxFraction must be in (0, 1], got ${maxFraction}`);

  const x0 = series[0]!.x;
  let minIndex = series.findIndex((p) => p.x - x0 >= minWarmupX);
  if (minIndex < 0) minIndex = n;
  const maxIndex = Math.max(minIndex, Math.floor(maxFraction * n));
  const endXOf = (i: number): number => series[Math.min(i, n - 1)]!.x;
  const m = Math.floor((n - minIndex) / b);
  const fractionCap = Math.floor((maxIndex - minIndex) / b);
  const dMax = Math.min(fractionCap, m - MIN_BATCHES_LEFT);
  if (dMax < 0) {
    return {
      endIndex: minIndex,
      endX: endXOf(minIndex),
      method: "minimum",
      batchSize: b,
      capped: false,
      reason: `too few samples after the minimum warm-up for MSER-${b} (${n - minIndex} left, need ${MIN_BATCHES_LEFT * b}): warm-up ends at the minimum`,
    };
  }

  const tolerance = options.tolerance ?? Math.sqrt(2 / m);
  if (!(tolerance >= 0)) throw new RangeError(`tolerance must be >= 0, got ${tolerance}`);
  const stats = mserStatistics(series, minIndex, m, b, dMax, trend);
  let argmin = 0;
  for (let d = 1; d <= dMax; d++) if (stats[d]! < stats[argmin]! * (1 - 1e-9)) argmin = d;
  let best = 0;
  while (stats[best]! > stats[argmin]! * (1 + tolerance)) best++;
  const capped = best > 0 && argmin === fractionCap;
  if (capped) best = argmin;
  const endIndex = minIndex + best * b;
  const name = `${trend ? `MSER-${b} on line-fit residuals` : `MSER-${b}`} (tolerance ${(tolerance * 100).toFixed(1)}%)`;
  const reason = capped
    ? `${name} was still falling at the cap of ${Math.round(maxFraction * 100)}% of the run: the series may not have settled`
    : best === 0
      ? `${name}: no transient after the minimum warm-up`
      : `${name}: the marginal standard error is near its minimum after dropping ${best} batches past the minimum warm-up`;
  return { endIndex, endX: endXOf(endIndex), method: trend ? "mser-trend" : "mser", batchSize: b, capped, reason };
}

/** MSER(d) for d = 0..dMax over m batches of size b starting at `start`. */
function mserStatistics(
  series: readonly { x: number; y: number }[],
  start: number,
  m: number,
  b: number,
  dMax: number,
  trend: boolean,
): Float64Array {
  const stats = new Float64Array(dMax + 1);
  let count = 0;
  let meanX = 0;
  let meanY = 0;
  let cxx = 0;
  let cyy = 0;
  let cxy = 0;
  for (let j = m - 1; j >= 0; j--) {
    let sx = 0;
    let sy = 0;
    for (let i = start + j * b; i < start + (j + 1) * b; i++) {
      sx += series[i]!.x;
      sy += series[i]!.y;
    }
    const x = sx / b;
    const y = sy / b;
    count++;
    const dx = x - meanX;
    const dy = y - meanY;
    meanX += dx / count;
    meanY += dy / count;
    cxx += dx * (x - meanX);
    cyy += dy * (y - meanY);
    cxy += dx * (y - meanY);
    if (j <= dMax) {
      const sse = trend && cxx > 0 ? Math.max(0, cyy - (cxy * cxy) / cxx) : cyy;
      stats[j] = sse / (count * count);
    }
  }
  return stats;
}
