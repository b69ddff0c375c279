/**
 * The memory-leak verdict of a soak run.
 *
 * Input: memory samples, where `bytes` should be the server's RSS: it holds the model
 * weights, the KV cache, the V8 heap and Node's external memory (Buffers) alike, so
 * adding external to it would count Buffers twice. Steps:
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
 *
 * Late-slope check (plateaus): a bounded cache that fills at a steady rate and then
 * evicts grows like a leak until it is full. Full before the warm-up cap (half the
 * samples), its fill is warm-up; full later, a straight line through fill and
 * plateau projects the fill rate onto the rest of the run. So when the verdict is not
 * already pass, the last third of the post-warm-up span is fitted on its own; if that
 * slope's whole interval lies below the overall slope (the series flattened), the
 * projection starts from the last third's fitted level at the last sample and
 * continues with the last third's slope and interval, and the same rule applies to it.
 * Memory that grew past the limit before flattening stays red. Limits: a plateau
 * reached within the last few percent of the run leaves too little flat series to
 * detect (at least `minPostWarmupSamples / 3` samples, 10 at the least, must span the
 * last third); a curve that flattens gradually (exponential approach) is judged on the
 * last third's slope, which still rises; and the level's own noise is not in the
 * interval, which then only covers the extrapolation past the last sample.
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
  /** Re-project a series that flattened in its last third (see above). Default true. */
  lateSlopeCheck?: boolean;
}

/** The last third of the post-warm-up span, when its slope showed the series had flattened. */
export interface PlateauFit {
  fromX: number;
  toX: number;
  samples: number;
  /** The last third's fitted memory at its last sample (toX): where the projection starts. */
  levelBytes: number;
  slopeBytesPerHour: number;
  slopeCI: { low: number; high: number };
}

export type Verdict = "pass" | "fail" | "inconclusive";

export interface MemoryVerdict {
  verdict: Verdict;
  warmup: WarmupResult | null;
  /** Fitted memory (RSS) at the warm-up end. */
  baselineBytes: number | null;
  slopeBytesPerHour: number | null;
  slopeCI: { low: number; high: number; confidence: number } | null;
  /** Planned run end minus the warm-up end. */
  horizonMs: number | null;
  projectedGrowthPct: number | null;
  projectedGrowthPctLow: number | null;
  projectedGrowthPctHigh: number | null;
  /** Set when the projection comes from the flattened last third (see above); null otherwise. */
  plateau: PlateauFit | null;
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
    plateau: null,
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
  const whole = decide({ ...base, projectedGrowthPct: pct(fit.slope), projectedGrowthPctLow: pct(fit.slopeLow), projectedGrowthPctHigh: pct(fit.slopeHigh) },
    `projected growth %s over ${(horizonMs / HOUR_MS).toFixed(2)} h after warm-up`, confidence);
  if (whole.verdict === "pass" || options.lateSlopeCheck === false) return whole;

  const plateau = flattenedLastThird(post, fit.slope, confidence, Math.max(10, Math.ceil(minPost / 3)));
  if (plateau === null) return whole;
  const end = (options.startMs ?? clean[0]!.tMs) + plannedDurationMs;
  const ahead = Math.max(0, end - plateau.toX);
  const growthAt = (slopePerMs: number) => ((plateau.levelBytes + slopePerMs * ahead - baselineBytes) / baselineBytes) * 100;
  const h = (v: number) => v / HOUR_MS;
  return decide(
    { ...base, plateau, projectedGrowthPct: growthAt(h(plateau.slopeBytesPerHour)), projectedGrowthPctLow: growthAt(h(plateau.slopeCI.low)), projectedGrowthPctHigh: growthAt(h(plateau.slopeCI.high)) },
    `flattened in the last third (slope ${mibPerHour(plateau.slopeBytesPerHour)} after ${mibPerHour(fit.slope * HOUR_MS)} overall): growth %s at the planned end, from the last third's level plus its slope over the remaining ${h(ahead).toFixed(2)} h`,
    confidence,
  );
}

const mibPerHour = (bytesPerHour: number) => `${bytesPerHour >= 0 ? "+" : ""}${(bytesPerHour / 1048576).toFixed(1)} MiB/h`;

/** Applies the rule to a judged projection; `what` has a %s where the growth and its interval go. */
function decide(v: MemoryVerdict, what: string, confidence: number): MemoryVerdict {
  const growth = v.projectedGrowthPct!;
  const low = v.projectedGrowthPctLow!;
  const high = v.projectedGrowthPctHigh!;
  const max = v.maxGrowthPct;
  const summary = what.replace("%s", `${growth.toFixed(1)}% [${low.toFixed(1)}%, ${high.toFixed(1)}%] (${Math.round(confidence * 100)}% CI)`);
  if (growth > max && low > 0) return { ...v, verdict: "fail", reason: `${summary} exceeds the ${max}% limit and the slope is significantly positive` };
  if (high <= max) return { ...v, verdict: "pass", reason: `${summary}: even the upper bound is within the ${max}% limit` };
  return { ...v, verdict: "inconclusive", reason: `${summary}: the interval straddles the ${max}% limit` };
}

/** The last third of the post-warm-up span (by time), when its slope interval lies wholly below `overallSlope`. */
function flattenedLastThird(post: { x: number; y: number }[], overallSlope: number, confidence: number, minSamples: number): PlateauFit | null {
  const first = post[0]!.x;
  const last = post[post.length - 1]!.x;
  const from = first + ((last - first) * 2) / 3;
  const tail = post.filter((p) => p.x >= from);
  if (tail.length < minSamples || new Set(tail.map((p) => p.x)).size < 2) return null;
  const f = theilSen(tail, { confidence });
  if (!(f.slopeHigh < overallSlope)) return null;
  return {
    fromX: tail[0]!.x,
    toX: last,
    samples: tail.length,
    levelBytes: f.intercept + f.slope * last,
    slopeBytesPerHour: f.slope * HOUR_MS,
    slopeCI: { low: f.slopeLow * HOUR_MS, high: f.slopeHigh * HOUR_MS },
  };
}
