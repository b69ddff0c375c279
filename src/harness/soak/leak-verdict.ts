/**
 * The memory-leak verdict of a soak run.
 *
 * Input: memory samples, where `bytes` should be RSS + external (model weights and
 * KV cache live outside the V8 heap). Steps:
 * 1. drop non-finite samples, sort by time;
 * 2. find the warm-up end (detectWarmup: trend-adjusted MSER-5, at least
 *    `minWarmupMs`, at most half the samples);
 * 3. fit Theil-Sen with Sen's interval to the post-warm-up samples;
 * 4. baseline = the fitted value at the warm-up end; horizon = planned end of the
 *    run minus the warm-up end; projected growth % = slope * horizon / baseline * 100,
 *    and its low/high bounds from the slope interval.
 *
 * Rule (documented trade-off):
 * - fail when the projected growth exceeds `maxGrowthPct` AND its lower bound is > 0
 *   (the slope is significantly positive). Sen's interval assumes independent
 *   residuals; GC sawtooth and allocator plateaus are autocorrelated, which makes the
 *   interval too narrow. So significance alone never fails a run: the point
 *   estimate must exceed the limit too. A clean server (true slope 0) fails only if
 *   the estimate is off by the whole limit; a real leak above the limit fails about
 *   as often as its estimate lands above it (nearly always once the interval is
 *   narrower than the margin).
 * - pass when the upper bound of the projected growth is within the limit: even the
 *   pessimistic end of the interval stays under it.
 * - otherwise inconclusive (the interval straddles the limit: too noisy or too short
 *   a run to say), and inconclusive when too few samples remain after warm-up.
 */
import { detectWarmup } from "./warmup.js";
import type { WarmupOptions, WarmupResult } from "./warmup.js";
import { theilSen } from "./theil-sen.js";

export interface MemorySample {
  tMs: number;
  bytes: number;
}

export interface JudgeMemoryOptions {
  /** Planned duration of the whole run, from `startMs`. */
  plannedDurationMs: number;
  /** Largest acceptable growth over the planned run, in % of the baseline. Default 20. */
  maxGrowthPct?: number;
  /** Confidence of the slope interval. Default 0.95. */
  confidence?: number;
  /** Fewest post-warm-up samples for a verdict. Default 30. */
  minPostWarmupSamples?: number;
  /** Minimum warm-up from the first sample. Default 60,000 (one window). */
  minWarmupMs?: number;
  /** Run start. Default: the first sample's time. */
  startMs?: number;
  /** Further warm-up detector options (minWarmupX comes from minWarmupMs). */
  warmup?: Omit<WarmupOptions, "minWarmupX">;
}

export type Verdict = "pass" | "fail" | "inconclusive";

export interface MemoryVerdict {
  verdict: Verdict;
  warmup: WarmupResult | null;
  /** Fitted RSS + external at the warm-up end. */
  baselineBytes: number | null;
  slopeBytesPerHour: number | null;
  slopeCI: { low: number; high: number; confidence: number } | null;
  /** Planned run end minus the warm-up end. */
  horizonMs: number | null;
  projectedGrowthPct: number | null;
  projectedGrowthPctLow: number | null;
  projectedGrowthPctHigh: number | null;
  maxGrowthPct: number;
  samples: { total: number; ignored: number; postWarmup: number };
  reason: string;
}

const HOUR_MS = 3_600_000;

export function judgeMemory(samples: readonly MemorySample[], options: JudgeMemoryOptions): MemoryVerdict {
  const { plannedDurationMs } = options;
  const maxGrowthPct = options.maxGrowthPct ?? 20;
  const confidence = options.confidence ?? 0.95;
  const minPost = options.minPostWarmupSamples ?? 30;
  if (!(plannedDurationMs > 0)) throw new RangeError(`plannedDurationMs must be > 0, got ${plannedDurationMs}`);
  if (!(maxGrowthPct >= 0)) throw new RangeError(`maxGrowthPct must be >= 0, got ${maxGrowthPct}`);

  const clean = samples.filter((s) => Number.isFinite(s.tMs) && Number.isFinite(s.bytes)).sort((a, b) => a.tMs - b.tMs);
  const counts = { total: samples.length, ignored: samples.length - clean.length, postWarmup: 0 };
  const empty: MemoryVerdict = {
    verdict: "inconclusive",
    warmup: null,
    baselineBytes: null,
    slopeBytesPerHour: null,
    slopeCI: null,
    horizonMs: null,
    projectedGrowthPct: null,
    projectedGrowthPctLow: null,
    projectedGrowthPctHigh: null,
    maxGrowthPct,
    samples: counts,
    reason: "",
  };
  if (clean.length === 0) return { ...empty, reason: "no memory samples" };

  const warmup = detectWarmup(
    clean.map((s) => ({ x: s.tMs, y: s.bytes })),
    { ...options.warmup, minWarmupX: options.minWarmupMs ?? 60_000 },
  );
  const post = clean.slice(warmup.endIndex).map((s) => ({ x: s.tMs, y: s.bytes }));
  counts.postWarmup = post.length;
  const distinctTimes = new Set(post.map((p) => p.x)).size;
  if (post.length < minPost || distinctTimes < 2) {
    return { ...empty, warmup, reason: `too few samples after warm-up: ${post.length} < ${minPost}` };
  }

  const fit = theilSen(post, { confidence });
  const baselineBytes = fit.intercept + fit.slope * warmup.endX;
  const horizonMs = (options.startMs ?? clean[0]!.tMs) + plannedDurationMs - warmup.endX;
  const base = {
    ...empty,
    warmup,
    baselineBytes,
    slopeBytesPerHour: fit.slope * HOUR_MS,
    slopeCI: { low: fit.slopeLow * HOUR_MS, high: fit.slopeHigh * HOUR_MS, confidence },
    horizonMs,
  };
  if (!(baselineBytes > 0)) return { ...base, reason: `baseline is not positive (${baselineBytes} bytes)` };
  if (!(horizonMs > 0)) return { ...base, reason: "warm-up ended after the planned end of the run" };

  const pct = (slope: number): number => ((slope * horizonMs) / baselineBytes) * 100;
  const growth = pct(fit.slope);
  const low = pct(fit.slopeLow);
  const high = pct(fit.slopeHigh);
  const judged = { ...base, projectedGrowthPct: growth, projectedGrowthPctLow: low, projectedGrowthPctHigh: high };
  const ci = `[${low.toFixed(1)}%, ${high.toFixed(1)}%]`;
  const summary = `projected growth ${growth.toFixed(1)}% ${ci} (${Math.round(confidence * 100)}% CI) over ${(horizonMs / HOUR_MS).toFixed(2)} h after warm-up`;
  if (growth > maxGrowthPct && low > 0) {
    return { ...judged, verdict: "fail", reason: `${summary} exceeds the ${maxGrowthPct}% limit and the slope is significantly positive` };
  }
  if (high <= maxGrowthPct) {
    return { ...judged, verdict: "pass", reason: `${summary}: even the upper bound is within the ${maxGrowthPct}% limit` };
  }
  return { ...judged, verdict: "inconclusive", reason: `${summary}: the interval straddles the ${maxGrowthPct}% limit` };
}
