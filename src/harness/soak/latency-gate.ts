/**
 * Windowed latency-stability gate for soak runs.
 *
 * A post-warm-up window is bad when NOT (p95 < maxRatio * p50): its tail has
 * detached from its median. The run fails when more than `maxConsecutiveBad` (K)
 * consecutive judged windows are bad; isolated bad windows are listed but tolerated.
 * A window is skipped (not judged) when it has no p50/p95, p50 <= 0, or fewer than
 * `minCount` values (when the count is known). A skipped window neither extends nor
 * resets a bad streak: an empty window between two bad ones is no evidence of
 * recovery. With no judged window the verdict is inconclusive.
 */
import type { WindowRecord } from "./window.js";

export interface LatencyWindowStats {
  p50: number | null;
  p95: number | null;
  /** Values behind the percentiles, if known. */
  count?: number | undefined;
}

export interface LatencyGateOptions {
  /** Default 2. */
  maxRatio?: number;
  /** K: longest tolerated run of consecutive bad windows. Default 2. */
  maxConsecutiveBad?: number;
  /** Windows before this index are warm-up and ignored. Default 0. */
  warmupEndIndex?: number;
  /** Fewest values for a window to be judged. Default 20. */
  minCount?: number;
}

export interface BadWindow {
  index: number;
  p50: number;
  p95: number;
  ratio: number;
}

export interface LatencyGateResult {
  verdict: "pass" | "fail" | "inconclusive";
  badWindows: BadWindow[];
  skippedWindows: number[];
  judgedWindows: number;
  longestBadRun: { start: number; length: number } | null;
  reason: string;
}

export function judgeWindows(windows: readonly LatencyWindowStats[], options: LatencyGateOptions = {}): LatencyGateResult {
  const maxRatio = options.maxRatio ?? 2;
  const k = options.maxConsecutiveBad ?? 2;
  const warmupEndIndex = options.warmupEndIndex ?? 0;
  const minCount = options.minCount ?? 20;
  if (!(maxRatio > 0)) throw new RangeError(`maxRatio must be > 0, got ${maxRatio}`);
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`maxConsecutiveBad must be an integer >= 0, got ${k}`);
  if (!Number.isInteger(warmupEndIndex) || warmupEndIndex < 0) throw new RangeError(`warmupEndIndex must be an integer >= 0, got ${warmupEndIndex}`);

  const badWindows: BadWindow[] = [];
  const skippedWindows: number[] = [];
  let judged = 0;
  let longest: { start: number; length: number } | null = null;
  let run: { start: number; length: number } | null = null;
  for (let i = warmupEndIndex; i < windows.length; i++) {
    const { p50, p95, count } = windows[i]!;
    if (p50 === null || p95 === null || !(p50 > 0) || (count !== undefined && count < minCount)) {
      skippedWindows.push(i);
      continue;
    }
    judged++;
    if (p95 < maxRatio * p50) {
      run = null;
      continue;
    }
    badWindows.push({ index: i, p50, p95, ratio: p95 / p50 });
    run = run ? { start: run.start, length: run.length + 1 } : { start: i, length: 1 };
    if (!longest || run.length > longest.length) longest = run;
  }

  const base = { badWindows, skippedWindows, judgedWindows: judged, longestBadRun: longest };
  if (judged === 0) return { ...base, verdict: "inconclusive", reason: "no post-warm-up window had enough latency data to judge" };
  if (longest && longest.length > k) {
    return {
      ...base,
      verdict: "fail",
      reason: `${longest.length} consecutive windows from #${longest.start} had p95 >= ${maxRatio} x p50 (at most ${k} tolerated)`,
    };
  }
  return {
    ...base,
    verdict: "pass",
    reason: `${badWindows.length} of ${judged} judged windows had p95 >= ${maxRatio} x p50, never more than ${k} in a row`,
  };
}

/** The p50/p95/count of one latency metric from each window record. */
export function latencyWindowsFrom(records: readonly WindowRecord[], metric: "e2eMs" | "ttftMs"): LatencyWindowStats[] {
  return records.map((r) => ({ p50: r[metric].p50, p95: r[metric].p95, count: r[metric].count }));
}
