/**
 * The soak verdict from the folded state.
 *
 * Memory, per server lifetime (a resume that restarts the bundled server starts a new lifetime; its
 * memory starts cold, so one line through both lifetimes would see a drop or a second warm-up):
 * judgeMemory on that lifetime's RSS, its own warm-up (at least one window), Theil-Sen slope with
 * Sen's interval, projected over the whole
 * planned duration as if that lifetime had run all of it.
 *
 * Why RSS alone: RSS is every resident page of the server process: the model weights (mmapped or
 * read), the KV cache and llama.cpp's buffers, the V8 heap, and Node's external memory (Buffers,
 * ArrayBuffers), whose pages are resident in the same process. "RSS + external" counts Buffers
 * twice: a leak of Buffers (the leak switch keeps Buffers) showed at twice its size, and any
 * change of external moved the judged quantity by twice its effect. The V8 heap used and external
 * stay as diagnostics: their own slopes after warm-up say where a leak lives (JS objects, Buffers,
 * or native memory when neither grows).
 *
 * The decisive lifetime is the failing one
 * with the largest projected growth, else the judged one with the largest growth. Inconclusive
 * (the interval straddles the limit, or too few samples after warm-up) makes the run INVALID, never
 * green: a leak verdict you can trust is pass or fail.
 *
 * Latency, per lifetime and prompt-size class: latency windows (see state.ts) that start after that
 * lifetime's memory warm-up are bad when p95 >= maxRatio x p50 of the class's fresh requests (cache
 * hits, the canary and other prompt sizes are excluded: they would split the distribution by
 * design); judgeWindows gives the longest run of consecutive bad ones, which the gate compares with K.
 * A latency window in which other processes took more than maxForeignCpuPct of the machine's CPU is
 * not judged (like an empty one: it neither extends nor ends a bad streak); when at least half of
 * the windows after warm-up were such, the run is INVALID: on a busy machine the tail of a latency
 * distribution is the neighbours', not the server's.
 */
import type { Marker } from "../report/types.js";
import { judgeMemory, judgeWindows, theilSen } from "../soak/index.js";
import type { LatencyGateResult, MemoryVerdict } from "../soak/index.js";
import type { MetaLifetime } from "./entries.js";
import { BUILTIN_PROFILE } from "./profile-types.js";
import type { BlockRow } from "./bounded.js";
import type { MemoryPoint, SoakSnapshot } from "./state.js";

export interface FitLine {
  fromMs: number;
  fromBytes: number;
  toMs: number;
  toBytes: number;
  /** The slope interval's lines from (fromMs, fromBytes), at toMs. */
  lowToBytes: number;
  highToBytes: number;
  /** The projection at the end of the planned duration (as if this lifetime ran all of it). */
  projectedEndMs: number;
  projectedEndBytes: number;
  /** The flattened last third the projection started from instead (see leak-verdict.ts), if any. */
  late: { fromMs: number; fromBytes: number; toMs: number; toBytes: number } | null;
}

export interface LifetimeMemory {
  lifetime: number;
  startMs: number;
  /** What the verdict judged: always the server's RSS (see above). */
  measure: "rss";
  samples: number;
  verdict: MemoryVerdict;
  fit: FitLine | null;
  /** Diagnostics, not judged: Theil-Sen slopes after warm-up (bytes/h) of what RSS holds; null when unknown. */
  diagnostics: { heapUsedBytesPerHour: number | null; externalBytesPerHour: number | null };
}

export interface LifetimeLatency {
  lifetime: number;
  /** Index into workload.promptSizes. */
  sizeClass: number;
  warmupEndMs: number;
  result: LatencyGateResult;
  /** Latency windows after warm-up left unjudged because other processes used too much of the machine. */
  noisy: number;
}

export interface SoakVerdict {
  memory: { lifetimes: LifetimeMemory[]; decisive: LifetimeMemory | null };
  latency: { lifetimes: LifetimeLatency[]; judged: number; bad: number; noisy: number; maxConsecutiveBad: number | null };
  metrics: Record<string, number | null>;
  /** Why the whole run cannot be trusted (incomplete, no memory verdict, the harness overloaded). */
  invalid: string[];
  /**
   * Why latency stability could not be judged (too few requests, the machine busy with other
   * processes): the run is INVALID for it only when no other gate is red (latencyOnlyInvalid).
   */
  latencyInvalid: string[];
  notes: string[];
  markers: Marker[];
}

const HOUR = 3_600_000;
const MiB = 1024 * 1024;
const mib = (b: number) => (b / MiB).toFixed(1);
const pct = (v: number | null) => (v === null ? "n/a" : `${v.toFixed(1)}%`);

function judgeLifetime(s: SoakSnapshot, l: MetaLifetime, points: MemoryPoint[]): LifetimeMemory {
  const { profile, plannedDurationMs } = s.start;
  const samples = points.map((p) => ({ tMs: p.tMs, bytes: p.rss }));
  const verdict = judgeMemory(samples, {
    plannedDurationMs,
    startMs: l.atMs,
    minWarmupMs: profile.windowMs,
    maxGrowthPct: profile.verdict.memory.maxGrowthPct,
    confidence: profile.verdict.memory.confidence,
    minPostWarmupSamples: profile.verdict.memory.minPostWarmupSamples,
  });
  let fit: FitLine | null = null;
  const last = samples[samples.length - 1];
  if (verdict.warmup && verdict.baselineBytes !== null && verdict.slopeBytesPerHour !== null && last) {
    const from = verdict.warmup.endX;
    const along = (slopePerHour: number, t: number) => verdict.baselineBytes! + (slopePerHour * (t - from)) / HOUR;
    const at = (t: number) => along(verdict.slopeBytesPerHour!, t);
    const endMs = l.atMs + plannedDurationMs;
    const p = verdict.plateau;
    const late = p ? { fromMs: p.fromX, fromBytes: p.levelBytes - (p.slopeBytesPerHour * (p.toX - p.fromX)) / HOUR, toMs: p.toX, toBytes: p.levelBytes } : null;
    fit = {
      fromMs: from, fromBytes: at(from), toMs: last.tMs, toBytes: at(last.tMs),
      lowToBytes: along(verdict.slopeCI?.low ?? verdict.slopeBytesPerHour, last.tMs), highToBytes: along(verdict.slopeCI?.high ?? verdict.slopeBytesPerHour, last.tMs),
      projectedEndMs: endMs, projectedEndBytes: p ? p.levelBytes + (p.slopeBytesPerHour * (endMs - p.toX)) / HOUR : at(endMs), late,
    };
  }
  const post = verdict.warmup ? points.filter((p) => p.tMs >= verdict.warmup!.endX) : [];
  const diagnostics = { heapUsedBytesPerHour: diagnosticSlope(post, (p) => p.heap), externalBytesPerHour: diagnosticSlope(post, (p) => p.ext) };
  return { lifetime: l.lifetime, startMs: l.atMs, measure: "rss", samples: samples.length, verdict, fit, diagnostics };
}

function diagnosticSlope(points: MemoryPoint[], pick: (p: MemoryPoint) => number | null): number | null {
  const xy = points.flatMap((p) => {
    const y = pick(p);
    return y === null || !Number.isFinite(y) ? [] : [{ x: p.tMs, y }];
  });
  if (xy.length < 3 || new Set(xy.map((p) => p.x)).size < 2) return null;
  return theilSen(xy).slope * HOUR;
}

function diagnosticsNote(d: LifetimeMemory["diagnostics"]): string {
  const rate = (v: number | null) => (v === null ? "unknown" : `${v >= 0 ? "+" : ""}${(v / MiB).toFixed(1)} MiB/h`);
  if (d.heapUsedBytesPerHour === null && d.externalBytesPerHour === null) return "; no heap/external diagnostics: RSS only from this server";
  return `; diagnostics (inside RSS, not judged): V8 heap used ${rate(d.heapUsedBytesPerHour)}, external ${rate(d.externalBytesPerHour)}`;
}

/** Share of the planned duration a lifetime's post-warm-up samples must span to decide the verdict. */
export const MIN_LIFETIME_SHARE = 0.25;

function postWarmupSpan(m: LifetimeMemory): number {
  return m.fit ? m.fit.toMs - m.fit.fromMs : 0;
}

function decisiveOf(all: LifetimeMemory[], plannedMs: number): LifetimeMemory | null {
  const scored = all.filter((m) => m.verdict.projectedGrowthPct !== null);
  const long = scored.filter((m) => postWarmupSpan(m) >= MIN_LIFETIME_SHARE * plannedMs);
  const longest = scored.reduce<LifetimeMemory | null>((a, b) => (a === null || postWarmupSpan(b) > postWarmupSpan(a) ? b : a), null);
  const judged = long.length > 0 ? long : longest ? [longest] : [];
  const failing = judged.filter((m) => m.verdict.verdict === "fail");
  const pool = failing.length > 0 ? failing : judged;
  return pool.reduce<LifetimeMemory | null>((a, b) => (a === null || b.verdict.projectedGrowthPct! > a.verdict.projectedGrowthPct! ? b : a), null);
}

function judgeLatency(s: SoakSnapshot, l: MetaLifetime, warmupEndMs: number): LifetimeLatency[] {
  const { maxRatio, maxConsecutiveBad, minRequests } = s.start.profile.verdict.latency;
  const maxForeign = s.start.profile.verdict.maxForeignCpuPct ?? BUILTIN_PROFILE.verdict.maxForeignCpuPct;
  return s.blocks.map(({ log, open }, sizeClass) => {
    const rows: BlockRow[] = [];
    for (let i = 0; i < log.length; i++) {
      const r = log.row(i);
      if (r.lifetime === l.lifetime) rows.push(r);
    }
    if (open && open.lifetime === l.lifetime) rows.push(open);
    let warmupEndIndex = rows.findIndex((r) => r.startMs >= warmupEndMs);
    if (warmupEndIndex < 0) warmupEndIndex = rows.length;
    const isNoisy = (r: BlockRow) => r.foreignPct !== null && r.foreignPct > maxForeign && r.count >= minRequests;
    const noisy = rows.slice(warmupEndIndex).filter(isNoisy).length;
    const judgedRows = rows.map((r) => (isNoisy(r) ? { ...r, p50: null, p95: null } : r));
    return { lifetime: l.lifetime, sizeClass, warmupEndMs, noisy, result: judgeWindows(judgedRows, { maxRatio, maxConsecutiveBad, warmupEndIndex, minCount: minRequests }) };
  });
}

export function computeVerdict(s: SoakSnapshot): SoakVerdict {
  const { profile, plannedDurationMs } = s.start;
  const lifetimes = s.lifetimes.length > 0 ? s.lifetimes : [];
  const many = lifetimes.length > 1;
  const memory = lifetimes
    .map((l) => judgeLifetime(s, l, s.memory.points.filter((p) => p.lifetime === l.lifetime)))
    .filter((m) => m.samples > 0);
  const decisive = decisiveOf(memory, plannedDurationMs);
  const latency = lifetimes.flatMap((l) => {
    const w = memory.find((m) => m.lifetime === l.lifetime)?.verdict.warmup;
    return judgeLatency(s, l, w ? w.endX : l.atMs + profile.windowMs);
  });
  const judged = latency.reduce((a, x) => a + x.result.judgedWindows, 0);
  const noisy = latency.reduce((a, x) => a + x.noisy, 0);
  const bad = latency.reduce((a, x) => a + x.result.badWindows.length, 0);
  const maxRun = judged > 0 ? Math.max(0, ...latency.map((x) => x.result.longestBadRun?.length ?? 0)) : null;

  const invalid: string[] = [];
  const latencyInvalid: string[] = [];
  const notes: string[] = [];
  const markers: Marker[] = [];
  if (s.ended === null) {
    const why = s.interruptions.length > 0 ? `interrupted (${s.interruptions[s.interruptions.length - 1]!.reason})` : "not finished (still running, or the harness stopped without a trace)";
    invalid.push(`incomplete: ${(s.windows.lastEndMs / 60_000).toFixed(1)} of ${(plannedDurationMs / 60_000).toFixed(1)} planned minutes ran, ${why}; continue it with gauntlet soak --resume <run-dir>`);
  }
  if (decisive === null) {
    const first = memory[0];
    invalid.push(first ? `no memory verdict: ${first.verdict.reason}` : `no memory verdict: no server memory samples (${lifetimes[0]?.server.memoryNote ?? "no server lifetime recorded"})`);
  } else if (decisive.verdict.verdict === "inconclusive") {
    invalid.push(`the memory verdict is inconclusive (lifetime ${decisive.lifetime}): ${decisive.verdict.reason}; a longer run narrows the interval`);
  }
  const judgesLatency = s.start.gates.some((g) => judgesLatencyStability(g.expression));
  if (judgesLatency && noisy > 0 && noisy >= judged) {
    latencyInvalid.push(`other processes used more than ${profile.verdict.maxForeignCpuPct ?? BUILTIN_PROFILE.verdict.maxForeignCpuPct}% of the machine's CPU in ${noisy} of ${noisy + judged} latency windows after warm-up: latency stability says more about them than about the server (host: ${s.host.meanForeignPct === null ? "n/a" : `${s.host.meanForeignPct.toFixed(0)}%`} on average)`);
  } else if (judged === 0 && judgesLatency) {
    latencyInvalid.push(`no latency window after warm-up held ${profile.verdict.latency.minRequests} fresh requests of one prompt size: too short or too slow a run to judge latency stability`);
  }
  const lagShare = s.loop.measuredWindows > 0 ? s.loop.laggingWindows / s.loop.measuredWindows : 0;
  if (s.loop.laggingWindows >= 2 && lagShare > profile.verdict.maxLaggingWindowShare) {
    invalid.push(`the harness's event loop lagged (p99 >= ${profile.verdict.maxEventLoopDelayP99Ms} ms) in ${s.loop.laggingWindows} of ${s.loop.measuredWindows} windows: the harness could not keep up`);
  }
  const late = s.lateness;
  if (late.laggingWindows >= 2 && late.laggingWindows / late.measuredWindows > profile.verdict.maxLaggingWindowShare) {
    const bound = profile.verdict.maxSendLatenessP99Ms ?? BUILTIN_PROFILE.verdict.maxSendLatenessP99Ms;
    invalid.push(`the harness sent late (send lateness p99 > ${bound} ms) in ${late.laggingWindows} of ${late.measuredWindows} windows: it could not keep its schedule, so the load was not the planned one`);
  }

  for (const l of lifetimes) {
    if (l.lifetime > 1) markers.push({ tMs: l.atMs, label: `server ${l.reason === "resume" ? "restarted (resume)" : "started"}: lifetime ${l.lifetime}` });
  }
  for (const m of memory) {
    const v = m.verdict;
    const tag = many ? ` (lifetime ${m.lifetime})` : "";
    if (v.warmup) markers.push({ tMs: v.warmup.endX, label: `warm-up end${tag}` });
    notes.push(`memory${tag}: RSS (holds weights, KV cache, V8 heap and Buffers), ${m.samples} samples; ${v.verdict.toUpperCase()}: ${v.reason}` +
      (v.warmup ? `; warm-up ended at ${(v.warmup.endX / 1000).toFixed(1)} s (${v.warmup.method})` : "") +
      (m.fit ? `; fitted line ${mib(m.fit.fromBytes)} MiB at ${(m.fit.fromMs / 1000).toFixed(1)} s -> ${mib(m.fit.toBytes)} MiB at ${(m.fit.toMs / 1000).toFixed(1)} s, ${mib(m.fit.projectedEndBytes)} MiB projected at ${(m.fit.projectedEndMs / 1000).toFixed(1)} s` : "") +
      diagnosticsNote(m.diagnostics));
  }
  for (const x of latency) {
    const size = profile.workload.promptSizes[x.sizeClass];
    notes.push(`latency stability${many ? ` (lifetime ${x.lifetime})` : ""}, prompts of ${size} sentence(s): ${x.result.verdict.toUpperCase()}: ${x.result.reason} (fresh-lane E2E, latency windows of >= ${profile.verdict.latency.minRequests} requests after ${(x.warmupEndMs / 1000).toFixed(1)} s${x.noisy > 0 ? `; ${x.noisy} not judged: the machine was busy with other processes` : ""})`);
  }
  for (const i of s.interruptions) markers.push({ tMs: i.atMs, label: `interrupted: ${i.reason}`.slice(0, 48) });
  for (const r of s.resumptions) markers.push({ tMs: r.atMs, label: "resumed (same --target server)" });

  const d = decisive?.verdict ?? null;
  const metrics: Record<string, number | null> = {
    failure_rate: s.requests.total > 0 ? s.requests.failed / s.requests.total : null,
    memory_growth_pct: d?.projectedGrowthPct ?? null,
    memory_growth_pct_low: d?.projectedGrowthPctLow ?? null,
    memory_growth_pct_high: d?.projectedGrowthPctHigh ?? null,
    memory_slope_mb_per_h: d?.slopeBytesPerHour == null ? null : d.slopeBytesPerHour / MiB,
    memory_baseline_mb: d?.baselineBytes == null ? null : d.baselineBytes / MiB,
    memory_post_warmup_samples: d?.samples.postWarmup ?? null,
    memory_lifetimes_judged: memory.filter((m) => m.verdict.projectedGrowthPct !== null).length,
    latency_bad_windows: judged > 0 ? bad : null,
    latency_max_consecutive_bad: maxRun,
    latency_judged_windows: judged,
    canary_count: s.canary.total,
    canary_changed: s.canary.changed,
    canary_failed: s.canary.failed,
    event_loop_delay_p99_ms: s.loop.maxP99Ms,
    send_lateness_p99_ms: s.lateness.maxP99Ms,
    foreign_cpu_pct: s.host.meanForeignPct,
    latency_noisy_windows: noisy,
    server_restarts: Math.max(0, lifetimes.length - 1),
    windows: s.windows.count,
  };
  if (d) notes.unshift(`memory verdict (decisive lifetime ${decisive!.lifetime}): projected growth ${pct(d.projectedGrowthPct)} [${pct(d.projectedGrowthPctLow)}, ${pct(d.projectedGrowthPctHigh)}] over the planned ${(plannedDurationMs / HOUR).toFixed(2)} h`);
  return { memory: { lifetimes: memory, decisive }, latency: { lifetimes: latency, judged, bad, noisy, maxConsecutiveBad: maxRun }, metrics, invalid, latencyInvalid, notes, markers: markers.sort((a, b) => a.tMs - b.tMs) };
}

/** Whether a gate expression reads the latency-stability verdict. */
export function judgesLatencyStability(expression: string): boolean {
  return /\blatency_(bad_windows|max_consecutive_bad|judged_windows|noisy_windows)\b/.test(expression);
}

/**
 * The run's INVALID reasons given its gates: the whole-run ones always; the latency-only ones unless
 * a gate that does not read latency stability failed (a leak found on a busy machine is still red:
 * memory, failures and the canary do not depend on how busy the machine was).
 */
export function runInvalidReasons(v: SoakVerdict, gates: readonly { expression: string; verdict: string }[]): string[] {
  const redElsewhere = gates.some((g) => g.verdict === "fail" && !judgesLatencyStability(g.expression));
  return [...v.invalid, ...(redElsewhere ? [] : v.latencyInvalid)];
}
