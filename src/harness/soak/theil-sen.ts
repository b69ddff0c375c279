/**
 * Theil-Sen robust line fit with Sen's confidence interval for the slope.
 *
 * - slope: median of the pairwise slopes over pairs with distinct x.
 * - intercept: median of y - slope * x.
 * - interval (Sen 1968; Gilbert 1987, section 16.5): C = z_{(1+conf)/2} * sqrt(Var S),
 *   where Var S is the variance of Kendall's S under H0 with the tie correction for
 *   ties in x and in y (Kendall 1970, as in tau-b). With N pairwise slopes ordered
 *   ascending, the bounds are the slopes of rank M1 = (N - C) / 2 and M2 + 1 =
 *   (N + C) / 2 + 1. Non-integer ranks are rounded outwards (lower rank
 *   k = floor(M1), upper rank N + 1 - k), which keeps the interval conservative.
 * - large n: above PAIRS_METHOD_MAX_POINTS points the order statistics come from a
 *   bisection on the slope with O(n log n) pair counting and O(n) memory
 *   (see slope-selection.ts); results match the all-pairs method to ~1e-13.
 */
import { median, normalQuantile, tieGroupSizes } from "./stats-math.js";
import { bisectionSelector, pairsSelector, sortPoints } from "./slope-selection.js";
import type { SlopeSelector } from "./slope-selection.js";

export interface Point {
  x: number;
  y: number;
}

export type TheilSenMethod = "pairs" | "bisection";

export interface TheilSenOptions {
  /** Two-sided confidence of the slope interval, in (0, 1). Default 0.95. */
  confidence?: number;
  /** Default: "pairs" up to PAIRS_METHOD_MAX_POINTS points, "bisection" above. */
  method?: TheilSenMethod | "auto";
}

export interface TheilSenFit {
  slope: number;
  intercept: number;
  slopeLow: number;
  slopeHigh: number;
  /** Points used (finite x and y). */
  n: number;
  /** Pairwise slopes considered (pairs with distinct x). */
  pairs: number;
  confidence: number;
  method: TheilSenMethod;
}

export const PAIRS_METHOD_MAX_POINTS = 2000;

export function theilSen(points: readonly Point[], options: TheilSenOptions = {}): TheilSenFit {
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const n = finite.length;
  const sorted = sortPoints(finite);
  const method: TheilSenMethod =
    options.method === undefined || options.method === "auto"
      ? n > PAIRS_METHOD_MAX_POINTS
        ? "bisection"
        : "pairs"
      : options.method;
  const selector: SlopeSelector = method === "pairs" ? pairsSelector(sorted) : bisectionSelector(sorted);
  const N = selector.pairs;
  if (N < 1) throw new RangeError("theilSen needs at least two points with distinct x");

  const slope = N % 2 === 1 ? selector.select((N + 1) / 2) : (selector.select(N / 2) + selector.select(N / 2 + 1)) / 2;
  const c = normalQuantile((1 + confidence) / 2) * Math.sqrt(kendallVariance(sorted.xs, sorted.ys));
  const k = Math.max(1, Math.min(Math.floor((N - c) / 2), Math.ceil(N / 2)));
  const slopeLow = Math.min(selector.select(k), slope);
  const slopeHigh = Math.max(selector.select(N + 1 - k), slope);

  const residuals = new Float64Array(n);
  for (let i = 0; i < n; i++) residuals[i] = sorted.ys[i]! - slope * sorted.xs[i]!;
  return { slope, intercept: median(residuals), slopeLow, slopeHigh, n, pairs: N, confidence, method };
}

/** Variance of Kendall's S under independence, corrected for ties in x and y. */
export function kendallVariance(xs: ArrayLike<number>, ys: ArrayLike<number>): number {
  const n = xs.length;
  const tx = tieGroupSizes(Float64Array.from(xs).sort());
  const ty = tieGroupSizes(Float64Array.from(ys).sort());
  const sum = (g: number[], f: (t: number) => number): number => g.reduce((s, t) => s + f(t), 0);
  const v0 = n * (n - 1) * (2 * n + 5);
  const vt = sum(tx, (t) => t * (t - 1) * (2 * t + 5));
  const vu = sum(ty, (t) => t * (t - 1) * (2 * t + 5));
  const v1 = n > 1 ? (sum(tx, (t) => t * (t - 1)) * sum(ty, (t) => t * (t - 1))) / (2 * n * (n - 1)) : 0;
  const v2 = n > 2 ? (sum(tx, (t) => t * (t - 1) * (t - 2)) * sum(ty, (t) => t * (t - 1) * (t - 2))) / (9 * n * (n - 1) * (n - 2)) : 0;
  return Math.max(0, (v0 - vt - vu) / 18 + v1 + v2);
}
